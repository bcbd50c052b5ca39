#!/bin/sh
# /init of an oracle experiment's initramfs (src/oracle/experiment.ts): as oracle/init.sh, but it runs the
# experiment's program, /experiment, with the arguments in /experiment.args, its output on the second serial port.
# A program that leaves threads stuck in the kernel powers the machine off itself.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
CMDLINE="$(cat /proc/cmdline)"
while read -r m; do
  u="$(echo "$m" | tr - _)"
  params=""
  for w in $CMDLINE; do
    case "$w" in "$u".*=*|"$m".*=*) params="$params ${w#*.}";; esac
  done
  insmod "/lib/modules/$m.ko" $params || echo "gmemsim-init: insmod $m failed"
done < /lib/modules/load-order
[ -e /dev/kvm ] || echo "gmemsim-init: no /dev/kvm"
stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "gmemsim-init: experiment start: $(cat /experiment.args)"
/experiment $(cat /experiment.args) > /dev/ttyS1
echo "gmemsim-init: experiment exit $?"
sync
poweroff -f
