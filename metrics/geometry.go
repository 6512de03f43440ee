package metrics

import "math/bits"

// The bucket arithmetic of the HDR geometry every histogram here shares
// (lowest discernible value 1 µs, 3 significant digits): the same flat
// bucket indexes as hdrhistogram-go, so that a frozen histogram can be read
// without decoding it. TestGeometryMatchesHDR checks it against the library.
const (
	unitMag    = 9  // floor(log2(1000 ns))
	halfMag    = 10 // log2 of half the sub-buckets: 2^11 sub-buckets ≥ 2·10^3
	subHalf    = 1 << halfMag
	subMask    = (2*subHalf - 1) << unitMag
	numBuckets = 24 << halfMag // flat indexes in [0, numBuckets) cover 0 .. MaxValue
)

// flatIndex returns the flat bucket index of v (0 <= v <= MaxValue).
func flatIndex(v int64) int {
	b := 64 - bits.LeadingZeros64(uint64(v)|subMask) - (unitMag + halfMag + 1)
	sb := int(v >> (b + unitMag))
	return (b+1)<<halfMag + sb - subHalf
}

// bucketOf returns the bucket number and sub-bucket of a flat index.
func bucketOf(idx int) (b, sb int) {
	b = idx>>halfMag - 1
	sb = idx&(subHalf-1) + subHalf
	if b < 0 {
		sb -= subHalf
		b = 0
	}
	return b, sb
}

// lowestOf returns the lowest value that falls into flat bucket idx.
func lowestOf(idx int) int64 {
	b, sb := bucketOf(idx)
	return int64(sb) << (b + unitMag)
}

// highestOf returns the highest value that falls into flat bucket idx.
func highestOf(idx int) int64 {
	b, _ := bucketOf(idx)
	return lowestOf(idx) + 1<<(b+unitMag) - 1
}

// midOf returns the middle of flat bucket idx (HDR's "median equivalent
// value", used for the mean and standard deviation of the buckets).
func midOf(idx int) int64 {
	b, _ := bucketOf(idx)
	return lowestOf(idx) + 1<<(b+unitMag)>>1
}

// rankOf returns the 1-based rank of the value at quantile q among n values,
// as hdrhistogram-go computes it: q·n rounded half up, within [1, n].
func rankOf(q float64, n int64) int64 {
	rank := q*float64(n) + 0.5
	if !(rank >= 1) { // NaN and q <= 0
		return 1
	}
	if rank >= float64(n) {
		return n
	}
	return int64(rank)
}

// quantileOfBucket turns the bucket holding a quantile into a value: the
// bucket's highest value (its lowest for q = 0), as HDR reports it, except
// for the bucket of values below half the floor, which reads as 0: a
// recorded 0 never reads as a bucket edge.
func quantileOfBucket(idx int, q float64) int64 {
	if idx == 0 || q <= 0 {
		return lowestOf(idx)
	}
	return highestOf(idx)
}
