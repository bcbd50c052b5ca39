// vm_operations_struct dispatch: the ->fault handler of a file VMA, chosen by the file's operations tag.
import type { Ctx, KGen } from '../core/sched.js';
import { kvm_gmem_fault_user_mapping } from '../kvm/guest_memfd.js';
import type { Folio, Vma } from './mm_types.js';
import { shmem_fault } from './shmem.js';

/** vma->vm_ops->fault(): a locked folio with a reference, or VM_FAULT_* bits. */
export function* vma_fault(ctx: Ctx, vma: Vma, index: number): KGen<Folio | number> {
  const f = vma.vm_file!;
  switch (f.f_op) {
    case 'kvm_gmem_fops':
      return yield* kvm_gmem_fault_user_mapping(ctx, f, index);
    case 'shmem_file_operations':
      return yield* shmem_fault(ctx, f, index);
    default:
      throw new Error(`no fault handler for ${f.f_op}`);
  }
}
