// prctl(PR_MCE_KILL) constants (include/uapi/linux/prctl.h).
import { constGroup } from './consts.js';

export const PR_MCE_KILL = 33;
export const PR_MCE_KILL_GET = 34;
export const PR_MCE_KILL_CLEAR = 0;
export const PR_MCE_KILL_SET = 1;
export const PR_MCE_KILL_LATE = 0;
export const PR_MCE_KILL_EARLY = 1;
export const PR_MCE_KILL_DEFAULT = 2;

export const PR_OPTION = constGroup('prctl option', false, { PR_MCE_KILL, PR_MCE_KILL_GET });
/** arg2 of PR_MCE_KILL */
export const PR_MCE_KILL_OP = constGroup('PR_MCE_KILL arg2', false, { PR_MCE_KILL_CLEAR, PR_MCE_KILL_SET });
/** arg3 of PR_MCE_KILL_SET */
export const PR_MCE_KILL_POLICY = constGroup('PR_MCE_KILL arg3', false, {
  PR_MCE_KILL_LATE,
  PR_MCE_KILL_EARLY,
  PR_MCE_KILL_DEFAULT,
});
