// emlearn-gen runtime: version, status codes, table access.
//
// Header-only, heap-free, exception-free C++11. Includes only C headers so it
// builds with avr-g++, which ships no C++ standard library.
#ifndef EMLEARN_GEN_COMMON_HPP
#define EMLEARN_GEN_COMMON_HPP

#include <math.h>  // INFINITY: tables may hold infinite thresholds
#include <stddef.h>
#include <stdint.h>
#include <string.h>

// The single source of the project version: pyproject.toml and CMake read it
// from these three lines. Generated headers check the table format of their
// family (EMLEARN_GEN_<FAMILY>_FORMAT), not this version.
#define EMLEARN_GEN_VERSION_MAJOR 0
#define EMLEARN_GEN_VERSION_MINOR 1
#define EMLEARN_GEN_VERSION_PATCH 0

#define EMLEARN_GEN_VERSION                                                    \
  (EMLEARN_GEN_VERSION_MAJOR * 10000L + EMLEARN_GEN_VERSION_MINOR * 100L +     \
   EMLEARN_GEN_VERSION_PATCH)

// Results equal the host's only if every operation is rounded as written, and
// NaN inputs (missing values) must reach the tree kernel as NaN. -ffast-math
// and its parts let the compiler rewrite x / n as x * (1 / n)
// (-freciprocal-math, -fassociative-math) or assume that no value is NaN
// (-ffinite-math-only), so they are refused wherever the compiler reveals
// them: GCC defines a macro for each, clang only __FAST_MATH__ and
// __FINITE_MATH_ONLY__ (which its -fno-honor-nans and -fno-honor-infinities
// set together). clang's -fno-honor-nans on its own reveals nothing; the
// kernels stay correct under it because they tell missing values apart by
// their bits (is_missing) and never compare a NaN.
#if defined(__FAST_MATH__) || (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__) || \
    defined(__RECIPROCAL_MATH__) || defined(__ASSOCIATIVE_MATH__)
#error "emlearn-gen models need IEEE float semantics: build without -ffast-math, -ffinite-math-only, -freciprocal-math and -fassociative-math"
#endif

#if defined(__AVR__)
#include <avr/pgmspace.h>
// AVR is a Harvard machine: without PROGMEM every table is copied to its few
// KiB of RAM at start-up.
#define EMLEARN_GEN_TABLE_ATTR PROGMEM
#else
#define EMLEARN_GEN_TABLE_ATTR
#endif

namespace emlearn_gen {

/// Result of every runtime function that can fail at run time.
enum class status : int8_t {
  ok = 0,
  bad_argument = -1,   ///< a null pointer or a size of zero where one is needed
  bad_table = -2,      ///< a model table is inconsistent with its layout
  size_mismatch = -3,  ///< a buffer is shorter than the layout says
  bad_file = -4,       ///< a model file is damaged: magic, size, CRC or a record out of place
  unsupported = -5,    ///< a model file this runtime does not read: its version, family or table format
};

/// Copies `n` bytes out of a model table. Every table read goes through here
/// (or table_read) so that AVR builds can keep tables in program memory.
inline void table_copy(void* dst, const void* table, size_t n) {
#if defined(__AVR__)
  memcpy_P(dst, table, n);
#else
  memcpy(dst, table, n);
#endif
}

/// Reads one element of a model table.
template <typename T>
inline T table_read(const T* p) {
#if defined(__AVR__)
  T value;
  memcpy_P(&value, p, sizeof(T));
  return value;
#else
  return *p;
#endif
}

/// Reads element `i` of a model table. The kernels read every table this
/// way, so that a generated header can hand them a table that is not a
/// pointer (far_table, on AVR) and they read it all the same.
template <typename T>
inline T table_read(const T* table, uint32_t i) {
  return table_read(table + i);
}

/// The part of a model table from element `first` on, to read with
/// table_read(part, i) (element first + i).
template <typename T>
inline const T* table_from(const T* table, uint32_t first) {
  return table + first;
}

/// The part of a model table `back` elements before `part` (whose first
/// element is at least `back` into the table): table_from's inverse.
template <typename T>
inline const T* table_back(const T* part, uint32_t back) {
  return part - back;
}

/// Bytes a bit string of `count` fields of `width` bits must have for
/// read_bits<Word>: the data, plus what a sizeof(Word)-byte read starting at
/// the last field's first byte reaches past it. The generator pads to this.
template <typename Word>
constexpr uint64_t packed_bytes(uint64_t count, uint64_t width) {
  return count == 0 ? 0u
                    : ((count * width + 7u) / 8u > (count - 1u) * width / 8u + sizeof(Word)
                           ? (count * width + 7u) / 8u
                           : (count - 1u) * width / 8u + sizeof(Word));
}

// Whether unaligned loads of 4 and 8 bytes are single instructions
// (little-endian machines that allow them, with a flat address space).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(__AVR__) && \
    (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__ARM_FEATURE_UNALIGNED))
#define EMLEARN_GEN_WIDE_LOADS 1
#else
#define EMLEARN_GEN_WIDE_LOADS 0
#endif

// read_bits_unmasked in line where it reads byte by byte from a flat address
// space and the compiler can be told: at -Os GCC keeps that read out of line
// on a Cortex-M0, a call per node a walk visits. Where it is one load, and on
// AVR (whose reads go through table_copy), the compiler decides.
#if defined(__GNUC__) && !EMLEARN_GEN_WIDE_LOADS && !defined(__AVR__)
#define EMLEARN_GEN_INLINE_READ inline __attribute__((always_inline))
#else
#define EMLEARN_GEN_INLINE_READ inline
#endif

/// read_bits() for a caller that masks every field it extracts: the field's
/// bits, and above them whatever the read reached past it (at least
/// sizeof(Word) * 8 - 7 bits are the string's, from `pos` on).
template <typename Word>
EMLEARN_GEN_INLINE_READ Word read_bits_unmasked(const uint8_t* bits, uint32_t pos) {
  Word word = 0;
#if EMLEARN_GEN_WIDE_LOADS
  memcpy(&word, bits + (pos >> 3), sizeof(Word));  // one unaligned load
#elif !defined(__AVR__)
  // Byte by byte from a flat address space: a memcpy of unknown alignment
  // is a call to the library's where loads must be aligned (Cortex-M0).
  // Unrolled, as -Os would keep the loop.
  const uint8_t* p = bits + (pos >> 3);
  word = static_cast<Word>(static_cast<Word>(p[0]) | static_cast<Word>(p[1]) << 8 | static_cast<Word>(p[2]) << 16 |
                           static_cast<Word>(p[3]) << 24);
  for (unsigned i = 4; i < sizeof(Word); ++i) {
    word = static_cast<Word>(word | static_cast<Word>(p[i]) << (8u * i));
  }
#else
  uint8_t bytes[sizeof(Word)];
  table_copy(bytes, bits + (pos >> 3), sizeof(Word));
  for (unsigned i = sizeof(Word); i > 0; --i) {
    word = static_cast<Word>((word << 8) | bytes[i - 1]);
  }
#endif
  return static_cast<Word>(word >> (pos & 7u));
}

/// Reads the `width`-bit field that starts at bit `pos` of a little-endian
/// bit string. `Word` is uint32_t or uint64_t and must hold width + 7 bits;
/// the string must be packed_bytes<Word>() long, so the fixed-size read never
/// leaves the table.
template <typename Word>
inline Word read_bits(const uint8_t* bits, uint32_t pos, uint8_t width) {
  const Word mask = static_cast<Word>((static_cast<Word>(1) << width) - 1u);
  return static_cast<Word>(read_bits_unmasked<Word>(bits, pos) & mask);
}

/// Bytes that read_bytes<Word>(table, at, n) may read from `at` on: n, or
/// where one wide load is cheaper than two narrow ones, n rounded up to a
/// power of two (a table of n-byte records is padded to this past its last).
constexpr uint8_t read_bytes_span(uint8_t n) {
  return n <= 1u ? n : n <= 2u ? 2u : n <= 4u ? 4u : 8u;
}

/// Reads the `n`-byte little-endian value at byte `at` of a table
/// (1 <= n <= sizeof(Word)): a record of whole bytes, which needs no
/// variable shift. On little-endian machines with unaligned loads this is
/// one load of read_bytes_span(n) bytes (and a mask where n is not a power
/// of two); elsewhere the n bytes one by one.
template <typename Word>
inline Word read_bytes(const uint8_t* table, uint32_t at, uint8_t n) {
  const uint8_t* p = table + at;
#if EMLEARN_GEN_WIDE_LOADS
  // Fixed-size loads; a generated header's n is a constant, so only its
  // case remains.
  if (n <= 1u) {
    return static_cast<Word>(*p);
  }
  if (n <= 2u) {
    uint16_t v;
    memcpy(&v, p, 2u);
    return static_cast<Word>(v);
  }
  if (n <= 4u) {
    uint32_t v;
    memcpy(&v, p, 4u);
    return static_cast<Word>(n == 4u ? v : v & ((static_cast<uint32_t>(1) << (8u * n)) - 1u));
  }
  Word v;
  memcpy(&v, p, sizeof(Word));  // n > 4: Word has 8 bytes
  return n == sizeof(Word) ? v : static_cast<Word>(v & ((static_cast<Word>(1) << ((8u * n) & 63u)) - 1u));
#elif !defined(__AVR__)
  // Byte loads straight from the table: a memcpy here would be a call
  // (Cortex-M0 at -Os). The loop stays a loop at -Os, so three bytes (the
  // usual record) are spelled out.
  if (n == 3u) {
    return static_cast<Word>(p[0] | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16));
  }
  Word word = 0;
  for (unsigned i = n; i > 0; --i) {
    word = static_cast<Word>((word << 8) | p[i - 1]);
  }
  return word;
#else
  uint8_t bytes[sizeof(Word)];
  table_copy(bytes, p, n);
  Word word = 0;
  for (unsigned i = n; i > 0; --i) {
    word = static_cast<Word>((word << 8) | bytes[i - 1]);
  }
  return word;
#endif
}

/// Field `index` of a table of `width`-bit fields: read_bits(), or where
/// the fields are whole bytes (8, 16 or 24 bits), read_bytes(), with no
/// variable shift. The table (a pointer or a far_table) is padded as
/// read_bits needs.
template <typename Word, typename Table>
inline Word read_field(Table table, uint32_t index, uint8_t width) {
  if (width == 8u) {
    return static_cast<Word>(table_read(table, index));
  }
  if (width == 16u) {
#if EMLEARN_GEN_WIDE_LOADS
    return read_bytes<Word>(table, 2u * index, 2u);
#else
    // Two byte loads in line: read_bytes would be a call here (Cortex-M0 at -Os).
    return static_cast<Word>(table_read(table, 2u * index) |
                             (static_cast<uint32_t>(table_read(table, 2u * index + 1u)) << 8));
#endif
  }
  if (width == 24u) {
    return read_bytes<Word>(table, 3u * index, 3u);
  }
  return read_bits<Word>(table, index * static_cast<uint32_t>(width), width);
}

/// read_bytes() where the caller masks every field it extracts: with wide
/// loads, the bits above the record's 8n are left as loaded (the next
/// record's), which saves the mask; elsewhere exactly read_bytes().
template <typename Word, typename Table>
inline Word read_bytes_unmasked(Table table, uint32_t at, uint8_t n) {
#if EMLEARN_GEN_WIDE_LOADS
  if (n == 3u) {
    uint32_t v;
    memcpy(&v, table + at, 4u);
    return static_cast<Word>(v);
  }
  if (n > 4u && n < sizeof(Word)) {
    Word v;
    memcpy(&v, table + at, sizeof(Word));
    return v;
  }
#endif
  return read_bytes<Word>(table, at, n);
}

#if defined(__AVR_HAVE_ELPM__)
// Far tables: AVR devices with more than 64 KiB of flash (ELPM).
//
// avr-gcc refuses objects over 32 KiB, and 16-bit pointers (memcpy_P) reach
// only the low 64 KiB of flash, where the linker puts all PROGMEM data. So a
// generated header whose tables are larger than one object may be (see
// core/templates/layout.j2) hands the kernels far_tables instead of
// pointers on these devices: each table is split into chunks of 16 KiB, each
// chunk is placed after the code (out of the low 64 KiB that other PROGMEM
// data needs) and read with 24-bit addresses (ELPM). Smaller models keep
// near PROGMEM tables and pointers, and pay nothing for this.

/// A program-memory address with all 24 bits (uint_farptr_t).
typedef uint32_t far_address;

/// The far address of a program-memory object named by `object`, wherever
/// the linker puts it: avr-libc's pgm_get_far_address, marked __extension__
/// because it is a statement expression.
#define EMLEARN_GEN_FAR_ADDRESS(object) (__extension__ pgm_get_far_address(object))

/// Bytes a chunk of a far table holds, and what it repeats of the next
/// chunk: a read of up to far_chunk_overlap bytes that starts in a chunk
/// (read_bits reads sizeof(Word) <= 8 bytes) never leaves it.
constexpr uint32_t far_chunk_bytes = 16384u;
constexpr uint32_t far_chunk_overlap = 8u;

/// A table of `T` held as chunks of far_chunk_bytes / sizeof(T) = 2^Shift
/// elements (plus the overlap). `Chunks::address(k)` is the far address of
/// chunk k. Holds no data: everything is in the types.
template <typename T, typename Chunks, uint8_t Shift>
struct far_table {
  static_assert((static_cast<uint32_t>(1) << Shift) * sizeof(T) == far_chunk_bytes,
                "a chunk holds far_chunk_bytes of elements");
};

/// Far address of element `i` of a far table.
template <typename T, typename Chunks, uint8_t Shift>
inline far_address far_element(far_table<T, Chunks, Shift>, uint32_t i) {
  const uint32_t in_chunk = i & ((static_cast<uint32_t>(1) << Shift) - 1u);
  return Chunks::address(i >> Shift) + in_chunk * static_cast<uint32_t>(sizeof(T));
}

/// Reads element `i` of a far table.
template <typename T, typename Chunks, uint8_t Shift>
inline T table_read(far_table<T, Chunks, Shift> table, uint32_t i) {
  T value;
  memcpy_PF(&value, far_element(table, i), sizeof(T));
  return value;
}

/// The part of a far table from element `first` on (table_from).
template <typename T, typename Chunks, uint8_t Shift>
struct far_table_part {
  uint32_t first;
};

template <typename T, typename Chunks, uint8_t Shift>
inline far_table_part<T, Chunks, Shift> table_from(far_table<T, Chunks, Shift>, uint32_t first) {
  far_table_part<T, Chunks, Shift> part = {first};
  return part;
}

/// Reads element `i` of a part of a far table.
template <typename T, typename Chunks, uint8_t Shift>
inline T table_read(far_table_part<T, Chunks, Shift> part, uint32_t i) {
  return table_read(far_table<T, Chunks, Shift>(), part.first + i);
}

/// The part of a part of a far table (table_from of a table_from).
template <typename T, typename Chunks, uint8_t Shift>
inline far_table_part<T, Chunks, Shift> table_from(far_table_part<T, Chunks, Shift> part, uint32_t first) {
  far_table_part<T, Chunks, Shift> inner = {part.first + first};
  return inner;
}

/// A part of a far table `back` elements before `part` (table_back).
template <typename T, typename Chunks, uint8_t Shift>
inline far_table_part<T, Chunks, Shift> table_back(far_table_part<T, Chunks, Shift> part, uint32_t back) {
  far_table_part<T, Chunks, Shift> outer = {part.first - back};
  return outer;
}

/// read_bits_unmasked() of a bit string held as a far table.
template <typename Word, typename Chunks, uint8_t Shift>
inline Word read_bits_unmasked(far_table<uint8_t, Chunks, Shift> bits, uint32_t pos) {
  static_assert(sizeof(Word) <= far_chunk_overlap, "a read stays inside one chunk");
  uint8_t bytes[sizeof(Word)];
  memcpy_PF(bytes, far_element(bits, pos >> 3), sizeof(Word));
  Word word = 0;
  for (unsigned i = sizeof(Word); i > 0; --i) {
    word = static_cast<Word>((word << 8) | bytes[i - 1]);
  }
  return static_cast<Word>(word >> (pos & 7u));
}

/// read_bits() of a bit string held as a far table.
template <typename Word, typename Chunks, uint8_t Shift>
inline Word read_bits(far_table<uint8_t, Chunks, Shift> bits, uint32_t pos, uint8_t width) {
  const Word mask = static_cast<Word>((static_cast<Word>(1) << width) - 1u);
  return static_cast<Word>(read_bits_unmasked<Word>(bits, pos) & mask);
}

/// read_bytes() of a table held as a far table.
template <typename Word, typename Chunks, uint8_t Shift>
inline Word read_bytes(far_table<uint8_t, Chunks, Shift> table, uint32_t at, uint8_t n) {
  static_assert(sizeof(Word) <= far_chunk_overlap, "a read stays inside one chunk");
  uint8_t bytes[sizeof(Word)];
  memcpy_PF(bytes, far_element(table, at), n);
  Word word = 0;
  for (unsigned i = n; i > 0; --i) {
    word = static_cast<Word>((word << 8) | bytes[i - 1]);
  }
  return word;
}

/// read_bytes() of a part of a far table.
template <typename Word, typename Chunks, uint8_t Shift>
inline Word read_bytes(far_table_part<uint8_t, Chunks, Shift> part, uint32_t at, uint8_t n) {
  return read_bytes<Word>(far_table<uint8_t, Chunks, Shift>(), part.first + at, n);
}
#endif  // __AVR_HAVE_ELPM__

/// True if `value` is a NaN, that is a missing value: exponent all ones and
/// mantissa non-zero. Decided on the bits with integer operations, so that no
/// compiler option that assumes "no NaN" (-ffinite-math-only, clang's
/// -fno-honor-nans) can fold it away.
inline bool is_missing(float value) {
  static_assert(sizeof(float) == sizeof(uint32_t), "float must be IEEE binary32");
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  return (bits & 0x7FFFFFFFu) > 0x7F800000u;
}

/// Index of the first largest of `n` values (ties go to the lowest index, as
/// numpy.argmax does). `values` is caller memory, not a table.
template <typename Real>
inline int32_t argmax(const Real* values, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i) {
    if (values[i] > values[best]) {
      best = i;
    }
  }
  return best;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_COMMON_HPP
