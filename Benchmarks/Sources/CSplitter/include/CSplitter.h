#ifndef CSPLITTER_H
#define CSPLITTER_H

#include <stddef.h>
#include <stdint.h>

/// What `csplitter_count` found.
typedef struct {
    /// Segments: pieces ended by the terminator, plus a last unterminated piece if any bytes follow the last one.
    int64_t segments;
    /// Element separators seen inside segments (the same figure SegmentTokenizer.countSegments() reports as elements).
    int64_t elements;
} csplitter_counts;

/// The baseline splitter: memchr for the segment terminator, then memchr for the element separator inside each
/// segment. Knows nothing of release characters, line breaks or envelopes; the delimiters are given.
csplitter_counts csplitter_count(const uint8_t *bytes, size_t count, uint8_t segment_terminator,
                                 uint8_t element_separator);

#endif
