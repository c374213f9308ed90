import { userInfo } from 'node:os';

/**
 * Who runs this process, from the operating system: the passwd entry of the process's uid (getpwuid, which
 * reads no environment). Never $USER or $LOGNAME: anyone can set those, and the CLI's actor decides
 * approvals and names every audit entry (decision 0017). A uid without a passwd entry (containers started
 * with an arbitrary --user) is named by its number.
 */
export function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
