// The real kernels the oracle boots: Debian's trixie-backports builds, pinned by package version and sha256, and the
// model options that describe each one (its version's uAPI details and its build configuration).
import type { KernelOptions } from '../kernel/options.js';

export interface DebPackage {
  readonly name: string;
  /** the Debian version, exactly */
  readonly version: string;
  readonly sha256: string;
}

export interface KernelProfile {
  /** what --kernel takes */
  readonly id: string;
  /** the kernel ABI name: modules live in /usr/lib/modules/<abi> */
  readonly abi: string;
  /** packages that together hold vmlinuz and the modules */
  readonly packages: readonly DebPackage[];
  /** the model options that describe this kernel; a scenario pinning other values is model-only on it */
  readonly model: KernelOptions;
  /** where vmlinuz sits inside the extracted packages */
  readonly vmlinuz: string;
}

/** linux-libc-dev 7.3.4: the uAPI headers the runner is built against (6.18.15 has no package of its own). */
export const UAPI_HEADERS: DebPackage = {
  name: 'linux-libc-dev',
  version: '7.3.4-1~bpo13+1',
  sha256: 'b3a4538fca67081c8606a93f37521d0eb74ac75996a02f3321a6b27f978e10a8',
};

/** Debian builds without CONFIG_KVM_SW_PROTECTED_VM and carries mainline memory-failure code (measured). */
const DEBIAN_CONFIG = { mm: 'mainline', error_handler: 'mainline', sw_protected_vm: false } as const;

export const KERNEL_PROFILES: readonly KernelProfile[] = [
  {
    id: '7.3.4',
    abi: '7.3.4+deb13-amd64',
    // From 7.x Debian splits the kernel into binary (vmlinuz), modules and base packages.
    packages: [
      {
        name: 'linux-binary-7.3.4+deb13-amd64',
        version: '7.3.4-1~bpo13+1',
        sha256: '7e3248d03a84dcdda88c567aa8c4038f2e7795d2dd167b112c56f8901b6f513f',
      },
      {
        name: 'linux-modules-7.3.4+deb13-amd64',
        version: '7.3.4-1~bpo13+1',
        sha256: 'b3ea01922c9f133767a83cf6891c19b3693858ded617bf22d1e34f95382c08ea',
      },
      {
        name: 'linux-base-7.3.4+deb13-amd64',
        version: '7.3.4-1~bpo13+1',
        sha256: '5663505495b5c90be94af42105c7b28629802516779102dac48d5a00cc00fccf',
      },
    ],
    model: { ...DEBIAN_CONFIG, kernel: '7.3' },
    vmlinuz: 'usr/lib/modules/7.3.4+deb13-amd64/vmlinuz',
  },
  {
    id: '6.18.15',
    abi: '6.18.15+deb13-amd64',
    packages: [
      {
        name: 'linux-image-6.18.15+deb13-amd64',
        version: '6.18.15-1~bpo13+1',
        sha256: 'd38a7af6260782a47cd615ad717347a528b45f076245b4deabb3f1ecf8459186',
      },
    ],
    model: { ...DEBIAN_CONFIG, kernel: '6.18' },
    vmlinuz: 'boot/vmlinuz-6.18.15+deb13-amd64',
  },
];

export const DEFAULT_KERNEL = '7.3.4';

export function kernelProfile(id: string): KernelProfile | undefined {
  return KERNEL_PROFILES.find((k) => k.id === id);
}

export function debFileName(p: DebPackage, arch = 'amd64'): string {
  // apt-get download names files NAME_VERSION_ARCH.deb with ':' in the version escaped as %3a
  return `${p.name}_${p.version.replaceAll(':', '%3a')}_${arch}.deb`;
}
