"""Walls a process can put up around itself without privileges, for containers that forbid namespaces (Docker's
default seccomp profile and a missing ``CAP_SYS_ADMIN``, as on Gradescope):

- ``deny_network()``: a seccomp filter on which ``socket()`` fails for every family but ``AF_UNIX`` (no TCP, UDP,
  raw or netlink socket: not even the grader's 127.0.0.1), and ``io_uring`` (which can open sockets) is refused;
- ``restrict_files(read, write)``: Landlock, where the kernel has it: files can be opened only beneath the folders
  named (read-only or read-write), so a folder the grader keeps elsewhere cannot be read even if it is readable by
  everyone.

Both need ``no_new_privs`` (``setpriv --no-new-privs`` sets it; it is set here too), hold for the process and every
child it starts, and cannot be undone. ``python -m coursekit.grading.confine [--read DIR]... [--write DIR]... --
CMD...`` puts them up and runs ``CMD``; the seccomp filter is required (it exits 126 if it cannot be installed),
Landlock is used when ``--read``/``--write`` are given and the kernel supports it.

Written with ``ctypes`` and the kernel's documented structures (``seccomp(2)``, ``landlock(7)``) because the
process that confines itself is the submission's, before any of its code runs: nothing to install, nothing
compiled, the same on every Python.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_KILL_PROCESS = 0x80000000
AF_UNIX = 1

# (audit arch, socket, io_uring_setup, io_uring_enter, io_uring_register); io_uring's numbers are the same everywhere
ARCHES = {"x86_64": (0xC000003E, 41, 425, 426, 427), "aarch64": (0xC00000B7, 198, 425, 426, 427)}
X32_SYSCALL_BIT = 0x40000000

# BPF opcodes (linux/filter.h)
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06


class ConfineError(OSError):
    """A wall could not be put up (an unsupported machine, or the kernel refused)."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _no_new_privs(libc):
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise ConfineError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def network_filter(machine=None):
    """The seccomp program (a list of ``(code, jt, jf, k)``) that refuses every socket family but ``AF_UNIX`` with
    ``EACCES`` and ``io_uring`` with ``EPERM``; a system call of another ABI (i386's ``int 0x80``, x32) kills the
    process, since its numbers would slip past the checks."""
    machine = machine or platform.machine()
    if machine not in ARCHES:
        raise ConfineError(errno.ENOSYS, f"no seccomp network filter for {machine} (known: {', '.join(ARCHES)})")
    arch, socket_nr, *uring = ARCHES[machine]
    deny = SECCOMP_RET_ERRNO | errno.EACCES
    prog = [(LD_W_ABS, 0, 0, 4),                                   # seccomp_data.arch
            (JEQ_K, 1, 0, arch),
            (RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
            (LD_W_ABS, 0, 0, 0)]                                   # seccomp_data.nr
    if machine == "x86_64":
        prog += [(JGE_K, 0, 1, X32_SYSCALL_BIT), (RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS)]
    n = len(uring)
    prog += [(JEQ_K, n + 2, 0, socket_nr)]                          # socket: to its family's check below
    prog += [(JEQ_K, n - i, 0, nr) for i, nr in enumerate(uring)]   # io_uring: to the EPERM return
    prog += [(RET_K, 0, 0, SECCOMP_RET_ALLOW),
             (RET_K, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM),
             (LD_W_ABS, 0, 0, 16),                                  # args[0], low half: the socket's family
             (JEQ_K, 0, 1, AF_UNIX),
             (RET_K, 0, 0, SECCOMP_RET_ALLOW),
             (RET_K, 0, 0, deny)]
    return prog


def deny_network():
    """Install ``network_filter()`` on this process (and everything it will start)."""
    prog = network_filter()
    libc = _libc()
    _no_new_privs(libc)
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise ConfineError(ctypes.get_errno(), "the kernel refused the seccomp filter")


# ------------------------------------------------------------------------------------------------- Landlock
SYS_LANDLOCK = {"create_ruleset": 444, "add_rule": 445, "restrict_self": 446}  # the same on x86_64 and aarch64
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1, 2, 4, 8
WRITE_ALL_V1 = (1 << 13) - 1 - EXECUTE - READ_FILE - READ_DIR  # remove, make dir/file/sock/fifo/char/block/sym
REFER, TRUNCATE = 1 << 13, 1 << 14  # ABI 2 and 3


def landlock_abi():
    """The kernel's Landlock ABI version, 0 where it has none (an old kernel, disabled, or a seccomp profile that
    refuses the call)."""
    if platform.machine() not in ARCHES:
        return 0
    libc = _libc()
    version = libc.syscall(SYS_LANDLOCK["create_ruleset"], None, ctypes.c_size_t(0),
                           ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, version)


def restrict_files(read=(), write=()):
    """Allow this process to open files only beneath ``read`` (read and execute) and ``write`` (everything);
    returns the ABI used. Raises ``ConfineError`` where the kernel has no Landlock."""
    abi = landlock_abi()
    if abi < 1:
        raise ConfineError(errno.ENOSYS, "this kernel has no Landlock")
    libc = _libc()
    read_access = EXECUTE | READ_FILE | READ_DIR
    all_access = read_access | WRITE_FILE | WRITE_ALL_V1 | (REFER if abi >= 2 else 0) | (TRUNCATE if abi >= 3 else 0)
    attr = struct.pack("Q", all_access)  # handled_access_fs only: the network is seccomp's
    fd = libc.syscall(SYS_LANDLOCK["create_ruleset"], attr, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if fd < 0:
        raise ConfineError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for paths, access in ((read, read_access), (write, all_access)):
            for path in paths:
                try:
                    parent = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a folder this machine does not have
                try:
                    allowed = access if os.path.isdir(path) else access & (EXECUTE | READ_FILE | WRITE_FILE | TRUNCATE)
                    rule = struct.pack("=Qi", allowed, parent)  # struct landlock_path_beneath_attr is packed
                    if libc.syscall(SYS_LANDLOCK["add_rule"], fd, LANDLOCK_RULE_PATH_BENEATH, rule,
                                    ctypes.c_uint32(0)) != 0:
                        raise ConfineError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
                finally:
                    os.close(parent)
        _no_new_privs(libc)
        if libc.syscall(SYS_LANDLOCK["restrict_self"], fd, ctypes.c_uint32(0)) != 0:
            raise ConfineError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return abi


SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt")
SYSTEM_WRITE = ("/dev",)  # /dev/null, /dev/urandom, /dev/shm (multiprocessing's semaphores)


def main(argv):
    read, write = [], []
    while argv and argv[0] in ("--read", "--write"):
        (read if argv[0] == "--read" else write).append(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print("usage: python -m coursekit.grading.confine [--read DIR]... [--write DIR]... -- CMD...",
              file=sys.stderr)
        return 2
    try:
        if read or write:
            restrict_files([*SYSTEM_READ, *read], [*SYSTEM_WRITE, *write])
        deny_network()
    except (ConfineError, OSError) as exc:
        print(f"coursekit.grading.confine: {exc}", file=sys.stderr)
        return 126
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
