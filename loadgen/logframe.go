package loadgen

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"
)

// A result in a log: a process that cannot write a file anyone can reach
// (a pod with no shared volume) writes its result to its log with
// [Result.WriteLog], and [LogResults] finds it again in what `kubectl logs`
// prints. The block is
//
//	=== stampede result begin: segment 2/4 ===
//	H4sIAAAAAAAA/+x9a3Pb…   (the result's JSON, gzip, base64, 76 characters a line)
//	…
//	=== stampede result end: sha256 9f86d08… ===
//
// with the SHA-256 of the JSON, so that a block cut short (a log rotated
// or a pod killed while writing) is an error, never a wrong result.
const (
	logBegin = "=== stampede result begin: "
	logEnd   = "=== stampede result end: sha256 "
	logTail  = " ==="
	logWidth = 76
)

// WriteLog writes r to w as a block of text lines that a log keeps:
// the result's JSON ([Result.WriteJSON]), gzip-compressed and in base64,
// between a line that begins it and one that ends it with the JSON's
// SHA-256. Other lines may come before and after it; [LogResults] reads
// it back. It is made for results that leave a process by its log
// (Kubernetes keeps a container's log until its pod is deleted); mind the
// log's size limit (the kubelet rotates a container's log at 10 MiB by
// default, and a block cut by rotation is lost).
func (r *Result) WriteLog(w io.Writer) error {
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		return err
	}
	sum := sha256.Sum256(js.Bytes())
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(js.Bytes())                            // to a bytes.Buffer: cannot fail
	_ = zw.Close()
	enc := base64.StdEncoding.EncodeToString(z.Bytes())
	var b strings.Builder
	b.Grow(len(enc) + len(enc)/logWidth + 128)
	fmt.Fprintf(&b, "%ssegment %v%s\n", logBegin, r.Segment, logTail)
	for len(enc) > 0 {
		n := min(logWidth, len(enc))
		b.WriteString(enc[:n])
		b.WriteByte('\n')
		enc = enc[n:]
	}
	fmt.Fprintf(&b, "%s%s%s\n", logEnd, hex.EncodeToString(sum[:]), logTail)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("loadgen: writing result to the log: %w", err)
	}
	return nil
}

// LogResults returns the results that [Result.WriteLog] wrote into the log
// read from rd, in the order their blocks end; lines outside blocks are
// skipped. It reads the logs of several processes at once, as `kubectl
// logs` prints them for a label selector: one after another, or line by
// line interleaved when each line carries a prefix naming its source
// (--prefix); timestamps before a line (--timestamps) are ignored. Within a
// block, a line of the process's own that is not one word of base64 is
// skipped. A block cut short, one whose checksum does not match, and a
// result that does not read are errors naming the line the block began
// on; the sequence goes on after them, with the blocks that follow.
func LogResults(rd io.Reader) iter.Seq2[*Result, error] {
	return func(yield func(*Result, error) bool) {
		type block struct {
			line int
			seg  string
			b64  strings.Builder
			tail string // a short line: the block's last, unless a full one follows
		}
		open := map[string]*block{} // by the prefix of their lines
		sc := bufio.NewScanner(rd)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			line := strings.TrimRight(sc.Text(), "\r")
			if i := strings.Index(line, logBegin); i >= 0 {
				key := logPrefix(line[:i])
				if b := open[key]; b != nil && !yield(nil, fmt.Errorf("loadgen: log line %d: the result block of line %d (%s) ends without its end line (cut short?)", n, b.line, b.seg)) {
					return
				}
				open[key] = &block{line: n, seg: strings.TrimSuffix(line[i+len(logBegin):], logTail)}
				continue
			}
			if i := strings.Index(line, logEnd); i >= 0 {
				key := logPrefix(line[:i])
				b := open[key]
				if b == nil {
					continue // the end of a block whose beginning the log lost
				}
				delete(open, key)
				b.b64.WriteString(b.tail)
				res, err := decodeLogBlock(b.b64.String(), strings.TrimSuffix(line[i+len(logEnd):], logTail))
				if err != nil {
					err = fmt.Errorf("loadgen: the result block of log line %d (%s): %w", b.line, b.seg, err)
				}
				if !yield(res, err) {
					return
				}
				continue
			}
			// A line of a block: its last field, after the prefix; other
			// lines of the process (its stderr shares the log) are not
			// one field of base64. Every line of a block is full but its
			// last: a short line followed by a full one was the
			// process's own.
			i := strings.LastIndexByte(line, ' ') + 1
			if b := open[logPrefix(line[:i])]; b != nil && isBase64(line[i:]) {
				if w := line[i:]; len(w) == logWidth {
					b.tail = ""
					b.b64.WriteString(w)
				} else {
					b.tail = w
				}
			}
		}
		if err := sc.Err(); err != nil {
			yield(nil, fmt.Errorf("loadgen: reading the log after line %d: %w", n, err))
			return
		}
		cut := slices.SortedFunc(maps.Values(open), func(a, b *block) int { return a.line - b.line })
		for _, b := range cut {
			if !yield(nil, fmt.Errorf("loadgen: the result block of log line %d (%s) has no end line: the log ends inside it (cut short, or rotated?)", b.line, b.seg)) {
				return
			}
		}
	}
}

// logPrefix returns what names a line's source: the text before the
// block's content without timestamps.
func logPrefix(s string) string {
	f := strings.Fields(s)
	out := f[:0]
	for _, w := range f {
		if _, err := time.Parse(time.RFC3339Nano, w); err != nil {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

func isBase64(s string) bool {
	if s == "" || len(s) > logWidth {
		return false
	}
	for _, c := range []byte(s) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

// maxLogRatio bounds how much larger than its gzip form a block's JSON
// may be: a result's JSON compresses a few times.
const maxLogRatio = 64

func decodeLogBlock(b64, sum string) (*Result, error) {
	z, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("not gzip: %w", err)
	}
	limit := int64(1<<20 + maxLogRatio*len(z))
	js, err := io.ReadAll(io.LimitReader(zr, limit+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("not gzip: %w", err)
	case int64(len(js)) > limit:
		return nil, fmt.Errorf("it inflates to more than %d bytes", limit)
	}
	got := sha256.Sum256(js)
	if hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("its checksum does not match: lines are missing or changed")
	}
	return ReadResult(bytes.NewReader(js))
}
