package metrics

import (
	"encoding/binary"
	"sort"
)

// frozen is the read-only form of a histogram: its populated buckets in
// ascending order as (index gap, count) pairs, cut into blocks of
// frozenBlock buckets with the index and cumulative count at each block's
// start. A quantile is a binary search over the blocks and a scan of one
// block: no decoding, no allocation. A pair with a gap below 8 and a count
// below 16, the common case, takes one byte (0gggcccc); any other is a
// marker byte (0x80) and two varints. Blocks add 16 bytes per 64 buckets.
type frozen struct {
	n      int64 // total count
	data   []byte
	blocks []fblock
}

type fblock struct {
	off uint32 // offset of the block's first pair in data
	idx uint32 // flat index of the bucket before the block's first (its gap is from here)
	cum int64  // count of every bucket before the block
}

const frozenBlock = 64

// freezer builds a frozen histogram from buckets given in ascending order.
type freezer struct {
	f    frozen
	k    int // buckets added
	last int // index of the last bucket added
}

func (z *freezer) add(idx int, count int64) {
	if count <= 0 {
		return
	}
	if z.k%frozenBlock == 0 {
		z.f.blocks = append(z.f.blocks, fblock{off: uint32(len(z.f.data)), idx: uint32(z.last), cum: z.f.n})
	}
	z.f.data = appendPair(z.f.data, idx-z.last, count)
	z.last = idx
	z.k++
	z.f.n = satAdd(z.f.n, count)
}

// done returns the frozen histogram, or nil when nothing was added.
func (z *freezer) done() *frozen {
	if z.f.n == 0 {
		return nil
	}
	f := z.f
	f.data = append([]byte(nil), f.data...) // exact size
	f.blocks = append([]fblock(nil), f.blocks...)
	return &f
}

// each calls fn for every populated bucket in ascending order until fn
// returns false.
func (f *frozen) each(fn func(idx int, count int64) bool) {
	idx, pos := 0, 0
	for pos < len(f.data) {
		gap, c, next := readPair(f.data, pos)
		pos = next
		idx += gap
		if !fn(idx, c) {
			return
		}
	}
}

// bucketAtRank returns the index of the bucket holding the value of the
// given 1-based rank.
func (f *frozen) bucketAtRank(rank int64) int {
	// The last block that starts below the rank holds it.
	j := sort.Search(len(f.blocks), func(i int) bool { return f.blocks[i].cum >= rank }) - 1
	j = max(j, 0)
	b := f.blocks[j]
	idx, cum, pos := int(b.idx), b.cum, int(b.off)
	for pos < len(f.data) {
		gap, c, next := readPair(f.data, pos)
		pos = next
		idx += gap
		if cum += c; cum >= rank || cum < 0 {
			return idx
		}
	}
	return idx
}

// merge returns the buckets of f and g together, by a merge of the two
// sorted bucket lists.
func (f *frozen) merge(g *frozen) *frozen {
	type cursor struct {
		f        *frozen
		pos, idx int
		c        int64
		ok       bool
	}
	next := func(k *cursor) {
		if k.pos >= len(k.f.data) {
			k.ok = false
			return
		}
		gap, c, next := readPair(k.f.data, k.pos)
		k.pos = next
		k.idx += gap
		k.c, k.ok = c, true
	}
	a, b := &cursor{f: f}, &cursor{f: g}
	next(a)
	next(b)
	var z freezer
	z.f.data = make([]byte, 0, len(f.data)+len(g.data))
	for a.ok || b.ok {
		switch {
		case !b.ok || a.ok && a.idx < b.idx:
			z.add(a.idx, a.c)
			next(a)
		case !a.ok || b.idx < a.idx:
			z.add(b.idx, b.c)
			next(b)
		default:
			z.add(a.idx, satAdd(a.c, b.c))
			next(a)
			next(b)
		}
	}
	return z.done()
}

func appendPair(b []byte, gap int, count int64) []byte {
	if gap < 8 && count < 16 {
		return append(b, byte(gap<<4|int(count)))
	}
	b = append(b, 0x80)
	b = binary.AppendUvarint(b, uint64(gap))
	return binary.AppendUvarint(b, uint64(count))
}

// readPair decodes the pair at b[pos:] and returns the position after it.
func readPair(b []byte, pos int) (gap int, count int64, next int) {
	if c := b[pos]; c < 0x80 {
		return int(c >> 4), int64(c & 15), pos + 1
	}
	pos++
	g, n := binary.Uvarint(b[pos:])
	pos += n
	k, m := binary.Uvarint(b[pos:])
	return int(g), int64(k), pos + m
}

func (f *frozen) bytes() int { return len(f.data) + 16*len(f.blocks) + 56 }
