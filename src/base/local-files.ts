/**
 * What an operator should do about a file in DATA_DIR that this process could not write or
 * create, from the system's error code: one plain clause for a log or startup line.
 */
export function dataDirFix(err: unknown, dir: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `DATA_DIR (${dir}) is full (${code}): free space there`;
    case 'EROFS':
      return `DATA_DIR (${dir}) is on a read-only file system (EROFS): make it writable, or point DATA_DIR at a writable directory`;
    case 'EACCES':
    case 'EPERM':
      return `this process may not write in DATA_DIR (${dir}) (${code}): give its user write permission there, or point DATA_DIR elsewhere`;
    default:
      return `${err instanceof Error ? err.message : String(err)}: check that DATA_DIR (${dir}) is a writable directory`;
  }
}
