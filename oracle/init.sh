#!/bin/sh
# /init of the gmemsim oracle initramfs: mount the pseudo filesystems, load KVM and hwpoison-inject, run the runner
# (or an experiment's program, src/oracle/experiment.ts, with the arguments in /experiment.args) with its results
# on the second serial port (the first is the kernel console), power off. An experiment that leaves threads stuck
# in the kernel powers the machine off itself.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
# Module parameters come from the kernel command line as <module>.<param>=<value>, as modprobe would take them.
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
if [ -x /experiment ]; then
  echo "gmemsim-init: experiment start: $(cat /experiment.args)"
  /experiment $(cat /experiment.args) > /dev/ttyS1
  echo "gmemsim-init: experiment exit $?"
else
  echo "gmemsim-init: runner start"
  /runner /input.json > /dev/ttyS1
  echo "gmemsim-init: runner exit $?"
fi
sync
poweroff -f
