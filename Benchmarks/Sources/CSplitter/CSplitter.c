#include "CSplitter.h"

#include <string.h>

csplitter_counts csplitter_count(const uint8_t *bytes, size_t count, uint8_t segment_terminator,
                                 uint8_t element_separator) {
    csplitter_counts result = {0, 0};
    const uint8_t *cursor = bytes;
    const uint8_t *end = bytes + count;
    while (cursor < end) {
        const uint8_t *terminator = memchr(cursor, segment_terminator, (size_t)(end - cursor));
        const uint8_t *segment_end = terminator ? terminator : end;
        const uint8_t *element = cursor;
        while ((element = memchr(element, element_separator, (size_t)(segment_end - element))) != NULL) {
            result.elements += 1;
            element += 1;
        }
        result.segments += 1;
        if (!terminator) break;
        cursor = terminator + 1;
    }
    return result;
}
