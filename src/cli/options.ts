// The kernel-behaviour options every command that runs the model accepts.
import { type Command, Option } from 'commander';
import { GmemsimError } from '../diagnostics/errors.js';
import {
  ERROR_HANDLERS,
  type ErrorHandlerVariant,
  KERNEL_VERSIONS,
  type KernelOptions,
  type KernelVersion,
  MM_BEHAVIOURS,
  type MmBehaviour,
} from '../kernel/options.js';

export interface KernelOptionFlags {
  mm?: string;
  errorHandler?: string;
  kernel?: string;
  swProtectedVm?: boolean;
}

export function kernelOptionFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--mm <behaviour>', 'memory_failure behaviour (overrides the scenario)').choices([...MM_BEHAVIOURS]),
    )
    .addOption(new Option('--error-handler <variant>', 'kvm_gmem_error_folio variant').choices([...ERROR_HANDLERS]))
    .addOption(
      new Option('--kernel <version>', 'kernel version whose uAPI details apply').choices([...KERNEL_VERSIONS]),
    )
    .option('--no-sw-protected-vm', 'model a kernel built without CONFIG_KVM_SW_PROTECTED_VM (as Debian ships it)');
}

export function parseKernelOptions(f: KernelOptionFlags): Partial<KernelOptions> {
  const o: { -readonly [K in keyof KernelOptions]?: KernelOptions[K] } = {};
  if (f.mm) o.mm = f.mm as MmBehaviour;
  if (f.errorHandler) o.error_handler = f.errorHandler as ErrorHandlerVariant;
  if (f.kernel) o.kernel = f.kernel as KernelVersion;
  if (f.swProtectedVm === false) o.sw_protected_vm = false;
  return o;
}

export function usageError(message: string): GmemsimError {
  return new GmemsimError({ code: 'GMEM5002', message });
}
