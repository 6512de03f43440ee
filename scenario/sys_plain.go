//go:build unix && (!linux || race)

package scenario

import "syscall"

// sysRead and sysWrite: see sys_raw.go. Here they are syscall's Read and
// Write: on systems other than Linux, and with the race detector, which
// learns from them what the kernel read and wrote.
func sysRead(fd uintptr, b []byte) (int, syscall.Errno) {
	return retry(func() (int, error) { return syscall.Read(int(fd), b) })
}

func sysWrite(fd uintptr, b []byte) (int, syscall.Errno) {
	return retry(func() (int, error) { return syscall.Write(int(fd), b) })
}

// retry calls f until it is not interrupted (EINTR), and returns what it
// did as sysRead and sysWrite do.
func retry(f func() (int, error)) (int, syscall.Errno) {
	for {
		n, err := f()
		switch e, ok := err.(syscall.Errno); {
		case err == nil:
			return n, 0
		case !ok:
			return 0, syscall.EIO // syscall's Read and Write give no other kind
		case e != syscall.EINTR:
			return 0, e
		}
	}
}
