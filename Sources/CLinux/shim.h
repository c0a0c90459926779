#ifndef ORDERGATE_CLINUX_SHIM_H
#define ORDERGATE_CLINUX_SHIM_H

/* renameat2 (Linux 3.15, glibc 2.28) is declared only under _GNU_SOURCE, which Swift's Glibc module is not built
   with: declared here as glibc defines it. */
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/* Renames `from` to `to` in one atomic step unless `to` exists (then -1 with errno EEXIST). A file system that cannot
   (EINVAL) leaves the caller to check and rename. AT_FDCWD is -100 and RENAME_NOREPLACE 1 on Linux. */
static inline int clinux_rename_noreplace(const char *from, const char *to) {
    return renameat2(-100, from, -100, to, 1);
}

#endif
