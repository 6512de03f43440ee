//go:build linux && !race

package scenario

import (
	"syscall"
	"unsafe"
)

// rawMax is the most bytes sysRead and sysWrite move in one raw system
// call: a copy of 64 KiB takes microseconds. A longer one goes through
// syscall.Syscall, so that the runtime may hand the goroutine's processor
// to others while the kernel copies.
const rawMax = 64 << 10

// sysRead and sysWrite read and write a socket of the own client without
// telling the Go runtime that a system call may block (syscall.RawSyscall,
// not syscall.Syscall): on a non-blocking socket neither blocks, and the
// runtime's bookkeeping of a blocking call (marking its processor free to
// take, taking it back) cost a tenth of the CPU of a small request on
// loopback. Both retry EINTR and return n >= 0. Built with the race
// detector, they are syscall's Read and Write instead (sys_plain.go),
// which tell the detector what the kernel read and wrote.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) { return sys(syscall.SYS_READ, fd, b) }

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) { return sys(syscall.SYS_WRITE, fd, b) }

func sys(trap, fd uintptr, b []byte) (int, syscall.Errno) {
	for {
		var n uintptr
		var e syscall.Errno
		// Each call converts the pointer in its arguments, as unsafe.Pointer's rules ask.
		if len(b) <= rawMax {
			n, _, e = syscall.RawSyscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		} else {
			n, _, e = syscall.Syscall(trap, fd, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		}
		switch e {
		case 0:
			return int(n), 0
		case syscall.EINTR:
			continue
		}
		return 0, e
	}
}
