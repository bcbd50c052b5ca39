// Signal numbers and SIGBUS si_codes for x86-64 (include/uapi/asm-generic/signal.h, siginfo.h).
import { constGroup } from './consts.js';

export const SIGBUS = 7;
export const SIGKILL = 9;
export const SIGSEGV = 11;

export const BUS_ADRALN = 1;
export const BUS_ADRERR = 2;
export const BUS_OBJERR = 3;
export const BUS_MCEERR_AR = 4;
export const BUS_MCEERR_AO = 5;
export const SI_USER = 0;
export const SI_KERNEL = 0x80;

export const SIGNO = constGroup('signal', false, { SIGBUS, SIGKILL, SIGSEGV });
export const BUS_CODE = constGroup('SIGBUS si_code', false, {
  BUS_ADRALN,
  BUS_ADRERR,
  BUS_OBJERR,
  BUS_MCEERR_AR,
  BUS_MCEERR_AO,
  SI_KERNEL,
  SI_USER,
});
