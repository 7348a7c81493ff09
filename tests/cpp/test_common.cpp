// Tests of common.hpp: bit-field reads, table access, missing values and argmax.
#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

// The second build of this suite exercises the byte-by-byte read that AVR and
// big-endian targets use, on the host.
#if defined(EMLEARN_GEN_TEST_PORTABLE_READ)
#undef __BYTE_ORDER__
#endif

#include "emlearn_gen/common.hpp"

#if defined(EMLEARN_GEN_TEST_PORTABLE_READ) && defined(__BYTE_ORDER__)
#error "the portable build must not see __BYTE_ORDER__"
#endif

namespace {

using emlearn_gen::read_bits;

// Reference reader: one bit at a time, least significant bit of the field at
// bit `pos`, bit k of a string being bit (k % 8) of byte (k / 8).
uint64_t reference_read(const std::vector<uint8_t>& bits, uint32_t pos, unsigned width) {
  uint64_t value = 0;
  for (unsigned i = 0; i < width; ++i) {
    const uint32_t k = pos + i;
    const uint64_t bit = (bits[k >> 3] >> (k & 7u)) & 1u;
    value |= bit << i;
  }
  return value;
}

// Writes `width` bits of `value` at bit `pos`, one bit at a time.
void write_field(std::vector<uint8_t>& bits, uint32_t pos, unsigned width, uint64_t value) {
  for (unsigned i = 0; i < width; ++i) {
    const uint32_t k = pos + i;
    const uint8_t bit = static_cast<uint8_t>(1u << (k & 7u));
    if ((value >> i) & 1u) {
      bits[k >> 3] = static_cast<uint8_t>(bits[k >> 3] | bit);
    } else {
      bits[k >> 3] = static_cast<uint8_t>(bits[k >> 3] & ~bit);
    }
  }
}

uint64_t low_mask(unsigned width) {
  return width == 0 ? 0u : (~uint64_t(0)) >> (64u - width);
}

// Deterministic pseudo-random bytes (64-bit LCG, high byte).
std::vector<uint8_t> random_bytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> out(n);
  uint64_t state = seed;
  for (size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    out[i] = static_cast<uint8_t>(state >> 56);
  }
  return out;
}

template <typename Word>
class ReadBits : public ::testing::Test {};

using Words = ::testing::Types<uint32_t, uint64_t>;
TYPED_TEST_SUITE(ReadBits, Words);

TYPED_TEST(ReadBits, ReturnsTheWordType) {
  const uint8_t bits[sizeof(TypeParam) + 1] = {0x2a};
  static_assert(std::is_same<decltype(read_bits<TypeParam>(bits, 0, 8)), TypeParam>::value,
                "read_bits returns its Word type");
  EXPECT_EQ(read_bits<TypeParam>(bits, 0, 8), TypeParam(0x2a));
}

// Every width the word can serve (width + 7 <= word bits), every bit offset
// within a byte, at the start of the string and a few bytes in. The buffer
// ends exactly where the documented contract lets it (the field's bytes, and
// at least sizeof(Word) bytes from the field's first byte), so a sanitizer
// build catches any read past it.
TYPED_TEST(ReadBits, EveryWidthAndOffset) {
  const unsigned max_width = 8u * sizeof(TypeParam) - 7u;
  const uint64_t pattern = 0xA5C396E15A3C691Eull;
  for (unsigned width = 0; width <= max_width; ++width) {
    for (uint32_t start_byte : {0u, 3u}) {
      for (uint32_t offset = 0; offset < 8; ++offset) {
        const uint32_t pos = start_byte * 8u + offset;
        const size_t field_end = (pos + width + 7u) / 8u;
        const size_t word_end = start_byte + sizeof(TypeParam);
        const size_t size = field_end > word_end ? field_end : word_end;
        SCOPED_TRACE(::testing::Message() << "width " << width << " pos " << pos);

        // A pattern inside a background of ones: the mask must clear the
        // neighbouring bits on both sides.
        std::vector<uint8_t> ones(size, 0xff);
        const uint64_t value = pattern & low_mask(width);
        write_field(ones, pos, width, value);
        EXPECT_EQ(uint64_t(read_bits<TypeParam>(ones.data(), pos, static_cast<uint8_t>(width))),
                  value);

        // All ones inside zeros: every bit of the field is returned.
        std::vector<uint8_t> zeros(size, 0x00);
        write_field(zeros, pos, width, ~uint64_t(0));
        EXPECT_EQ(uint64_t(read_bits<TypeParam>(zeros.data(), pos, static_cast<uint8_t>(width))),
                  low_mask(width));

        // Zeros inside ones.
        std::vector<uint8_t> hole(size, 0xff);
        write_field(hole, pos, width, 0);
        EXPECT_EQ(uint64_t(read_bits<TypeParam>(hole.data(), pos, static_cast<uint8_t>(width))),
                  uint64_t(0));
      }
    }
  }
}

// Arbitrary positions of a random string, checked against the bit-by-bit
// reader.
TYPED_TEST(ReadBits, MatchesBitByBitReader) {
  const unsigned max_width = 8u * sizeof(TypeParam) - 7u;
  const size_t data_bytes = 48;
  std::vector<uint8_t> bits = random_bytes(data_bytes + sizeof(TypeParam), 0x5eed);
  for (unsigned width = 0; width <= max_width; ++width) {
    for (uint32_t pos = 0; pos + width <= 8u * data_bytes; ++pos) {
      const uint64_t expected = reference_read(bits, pos, width);
      const uint64_t got = read_bits<TypeParam>(bits.data(), pos, static_cast<uint8_t>(width));
      if (got != expected) {
        ADD_FAILURE() << "width " << width << " pos " << pos << ": got " << got << ", expected "
                      << expected;
        return;
      }
    }
  }
}

// Bytes a string of `count` fields of `width` bits needs so that a
// `word_bytes`-byte load at the first byte of every field stays inside it.
uint64_t required_bytes(uint64_t count, uint64_t width, uint64_t word_bytes) {
  uint64_t need = (count * width + 7u) / 8u;
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t end = (i * width) / 8u + word_bytes;
    need = end > need ? end : need;
  }
  return need;
}

TYPED_TEST(ReadBits, PackedBytesIsWhatTheReadsReach) {
  using emlearn_gen::packed_bytes;
  const unsigned max_width = 8u * sizeof(TypeParam) - 7u;
  for (uint64_t count = 0; count < 40; ++count) {
    for (uint64_t width = 0; width <= max_width; ++width) {
      EXPECT_EQ(packed_bytes<TypeParam>(count, width), required_bytes(count, width, sizeof(TypeParam)))
          << "count " << count << " width " << width;
    }
  }
  // A few by hand.
  EXPECT_EQ(packed_bytes<TypeParam>(0, 9), 0u);
  EXPECT_EQ(packed_bytes<TypeParam>(1, 3), sizeof(TypeParam));
  EXPECT_EQ(packed_bytes<TypeParam>(5, 9), 4u + sizeof(TypeParam));  // last field starts in byte 4
  EXPECT_EQ(packed_bytes<TypeParam>(1000000, 1), 124999u + sizeof(TypeParam));
  static_assert(packed_bytes<TypeParam>(2, 8) == 1u + sizeof(TypeParam), "usable in constant expressions");
}

// A run of consecutive fields, as the generator packs node records and roots:
// field i at bit i * width, in a buffer of exactly packed_bytes().
TYPED_TEST(ReadBits, ConsecutiveFields) {
  const unsigned max_width = 8u * sizeof(TypeParam) - 7u;
  for (unsigned width = 1; width <= max_width; ++width) {
    const uint32_t count = 19;
    std::vector<uint8_t> bits(
        static_cast<size_t>(emlearn_gen::packed_bytes<TypeParam>(count, width)), 0);
    ASSERT_GE(bits.size(), (count * width + 7u) / 8u);
    std::vector<uint64_t> values(count);
    uint64_t state = width;
    for (uint32_t i = 0; i < count; ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      values[i] = (state ^ (state >> 29)) & low_mask(width);
      write_field(bits, i * width, width, values[i]);
    }
    for (uint32_t i = 0; i < count; ++i) {
      EXPECT_EQ(uint64_t(read_bits<TypeParam>(bits.data(), i * width, static_cast<uint8_t>(width))),
                values[i])
          << "width " << width << " field " << i;
    }
  }
}

TEST(ReadBits, ZeroWidthIsZero) {
  const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  for (uint32_t pos = 0; pos < 8; ++pos) {
    EXPECT_EQ(read_bits<uint32_t>(ones, pos, 0), 0u);
    EXPECT_EQ(read_bits<uint64_t>(ones, pos, 0), 0u);
  }
}

TEST(ReadBits, KnownBytes) {
  // 0x1234 little-endian at byte 1, so bits 8..23.
  const uint8_t bits[12] = {0xff, 0x34, 0x12, 0xff};
  EXPECT_EQ(read_bits<uint32_t>(bits, 8, 16), 0x1234u);
  EXPECT_EQ(read_bits<uint64_t>(bits, 8, 16), 0x1234u);
  EXPECT_EQ(read_bits<uint32_t>(bits, 12, 8), 0x23u);
  EXPECT_EQ(read_bits<uint32_t>(bits, 4, 8), 0x4fu);
  // The widest 32-bit field at the last offset spans all four bytes.
  EXPECT_EQ(read_bits<uint32_t>(bits, 7, 25), (0xff1234ffu >> 7) & 0x1ffffffu);
}

// --- table access -----------------------------------------------------------

TEST(TableRead, ReadsEveryElementBitExactly) {
  static const float floats[] EMLEARN_GEN_TABLE_ATTR = {
      1.5f, -0.0f, std::numeric_limits<float>::denorm_min(), -std::numeric_limits<float>::infinity(),
      std::numeric_limits<float>::max()};
  for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); ++i) {
    const float v = emlearn_gen::table_read(floats + i);
    EXPECT_EQ(memcmp(&v, &floats[i], sizeof(float)), 0) << "element " << i;
  }
  EXPECT_TRUE(std::signbit(emlearn_gen::table_read(floats + 1)));

  static const double doubles[] EMLEARN_GEN_TABLE_ATTR = {0.1, -2.5e300, 4.9e-324};
  for (size_t i = 0; i < 3; ++i) {
    const double v = emlearn_gen::table_read(doubles + i);
    EXPECT_EQ(memcmp(&v, &doubles[i], sizeof(double)), 0) << "element " << i;
  }

  static const int32_t ints[] EMLEARN_GEN_TABLE_ATTR = {-7, 0, INT32_MAX, INT32_MIN};
  EXPECT_EQ(emlearn_gen::table_read(ints + 0), -7);
  EXPECT_EQ(emlearn_gen::table_read(ints + 2), INT32_MAX);
  EXPECT_EQ(emlearn_gen::table_read(ints + 3), INT32_MIN);

  static const uint8_t bytes[] EMLEARN_GEN_TABLE_ATTR = {0, 1, 254, 255};
  EXPECT_EQ(emlearn_gen::table_read(bytes + 2), 254);
  EXPECT_EQ(emlearn_gen::table_read(bytes + 3), 255);
}

TEST(TableRead, KeepsNaNPayload) {
  const uint32_t pattern = 0x7fc12345u;
  float table[1];
  memcpy(table, &pattern, sizeof(pattern));
  const float v = emlearn_gen::table_read(table);
  uint32_t out = 0;
  memcpy(&out, &v, sizeof(out));
  EXPECT_EQ(out, pattern);
}

TEST(TableCopy, CopiesExactlyNBytes) {
  static const uint8_t table[] EMLEARN_GEN_TABLE_ATTR = {10, 11, 12, 13, 14, 15, 16, 17, 18};
  for (size_t start = 0; start < 3; ++start) {
    for (size_t n = 0; n + start <= sizeof(table); ++n) {
      uint8_t dst[sizeof(table) + 2];
      memset(dst, 0xee, sizeof(dst));
      emlearn_gen::table_copy(dst + 1, table + start, n);
      EXPECT_EQ(dst[0], 0xee) << "wrote before the destination";
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(dst[1 + i], table[start + i]) << "start " << start << " n " << n << " i " << i;
      }
      for (size_t i = n + 1; i < sizeof(dst); ++i) {
        EXPECT_EQ(dst[i], 0xee) << "wrote past n = " << n;
      }
    }
  }
}

TEST(TableCopy, CopiesFloatsUnaligned) {
  static const float table[] EMLEARN_GEN_TABLE_ATTR = {3.25f, -1.0f};
  unsigned char dst[1 + sizeof(table)];
  emlearn_gen::table_copy(dst + 1, table, sizeof(table));
  float back[2];
  memcpy(back, dst + 1, sizeof(back));
  EXPECT_EQ(back[0], 3.25f);
  EXPECT_EQ(back[1], -1.0f);
}

// --- is_missing -------------------------------------------------------------

float from_bits(uint32_t bits) {
  float value;
  memcpy(&value, &bits, sizeof(value));
  return value;
}

TEST(IsMissing, EveryNaNAndNothingElse) {
  // Every NaN: exponent all ones and any non-zero mantissa, either sign,
  // quiet or signalling.
  for (uint32_t sign : {0u, 0x80000000u}) {
    for (uint32_t mantissa : {1u, 2u, 0x12345u, 0x3FFFFFu, 0x400000u, 0x400001u, 0x7FFFFFu}) {
      EXPECT_TRUE(emlearn_gen::is_missing(from_bits(sign | 0x7F800000u | mantissa)))
          << std::hex << (sign | 0x7F800000u | mantissa);
    }
  }
  EXPECT_TRUE(emlearn_gen::is_missing(std::numeric_limits<float>::quiet_NaN()));
  EXPECT_TRUE(emlearn_gen::is_missing(std::numeric_limits<float>::signaling_NaN()));
  // Everything else is present: infinities, the extremes, zeros, subnormals.
  const float present[] = {
      std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
      std::numeric_limits<float>::max(),      std::numeric_limits<float>::lowest(),
      std::numeric_limits<float>::min(),      std::numeric_limits<float>::denorm_min(),
      -std::numeric_limits<float>::denorm_min(), 0.0f, -0.0f, 1.0f, -3.5e30f};
  for (float value : present) {
    EXPECT_FALSE(emlearn_gen::is_missing(value)) << value;
  }
}

TEST(IsMissing, AgreesWithIsnanOnEveryExponentAndMantissaEdge) {
  for (uint32_t exponent = 0; exponent < 256u; ++exponent) {
    for (uint32_t mantissa : {0u, 1u, 0x400000u, 0x7FFFFFu}) {
      for (uint32_t sign : {0u, 0x80000000u}) {
        const uint32_t bits = sign | (exponent << 23) | mantissa;
        EXPECT_EQ(emlearn_gen::is_missing(from_bits(bits)), std::isnan(from_bits(bits))) << std::hex << bits;
      }
    }
  }
}

// --- argmax -----------------------------------------------------------------

template <typename Real>
class Argmax : public ::testing::Test {};

using Reals = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Argmax, Reals);

TYPED_TEST(Argmax, FirstMaximumWinsTies) {
  using R = TypeParam;
  const R a[] = {R(1), R(3), R(3), R(2)};
  EXPECT_EQ(emlearn_gen::argmax(a, 4), 1);
  const R b[] = {R(5), R(5), R(5)};
  EXPECT_EQ(emlearn_gen::argmax(b, 3), 0);
  const R c[] = {R(0.25), R(0.25), R(0.5), R(0.5)};
  EXPECT_EQ(emlearn_gen::argmax(c, 4), 2);
}

TYPED_TEST(Argmax, FindsTheMaximumAnywhere) {
  using R = TypeParam;
  const R a[] = {R(1), R(2), R(3), R(4)};
  EXPECT_EQ(emlearn_gen::argmax(a, 4), 3);
  const R b[] = {R(9), R(2), R(3), R(4)};
  EXPECT_EQ(emlearn_gen::argmax(b, 4), 0);
  const R c[] = {R(-3), R(-1), R(-2)};
  EXPECT_EQ(emlearn_gen::argmax(c, 3), 1);
  const R one[] = {R(-7)};
  EXPECT_EQ(emlearn_gen::argmax(one, 1), 0);
}

TYPED_TEST(Argmax, LooksOnlyAtNValues) {
  using R = TypeParam;
  const R a[] = {R(1), R(2), R(100)};
  EXPECT_EQ(emlearn_gen::argmax(a, 2), 1);
}

TYPED_TEST(Argmax, SignedZerosAndInfinities) {
  using R = TypeParam;
  // -0 == +0: a tie, so the first wins, as numpy.argmax([-0.0, 0.0]) == 0.
  const R z1[] = {R(-0.0), R(0.0)};
  EXPECT_EQ(emlearn_gen::argmax(z1, 2), 0);
  const R z2[] = {R(0.0), R(-0.0)};
  EXPECT_EQ(emlearn_gen::argmax(z2, 2), 0);
  const R inf = std::numeric_limits<R>::infinity();
  const R i1[] = {-inf, inf, inf};
  EXPECT_EQ(emlearn_gen::argmax(i1, 3), 1);
  const R i2[] = {-inf, -inf, std::numeric_limits<R>::lowest()};
  EXPECT_EQ(emlearn_gen::argmax(i2, 3), 2);
}

TYPED_TEST(Argmax, SmallestDifferenceCounts) {
  using R = TypeParam;
  const R p = R(0.5);
  const R a[] = {p, std::nextafter(p, R(1)), p};
  EXPECT_EQ(emlearn_gen::argmax(a, 3), 1);
}

}  // namespace
