// Pairs of binary64 bit patterns for tests of f64::add_nonnegative: both
// values non-negative and below 2^1023 (add_nonnegative_applies), drawn so
// that every case of the addition comes up often: any exponent difference,
// near exponents, subnormals, exact ties of rounding, carries into the next
// exponent (also by rounding up), zeros, equal values and the largest
// exponents. Integer code only, so the same pairs come out on the host, the
// Cortex-M and AVR (whose double has 32 bits).
#ifndef EMLEARN_GEN_TESTS_NONNEGATIVE_PAIRS_HPP
#define EMLEARN_GEN_TESTS_NONNEGATIVE_PAIRS_HPP

#include <stdint.h>

namespace nonnegative_pairs {

const uint64_t fraction_mask = (static_cast<uint64_t>(1) << 52) - 1u;
const uint64_t hidden_bit = static_cast<uint64_t>(1) << 52;

struct source {
  uint64_t state;

  uint64_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t high = state >> 32;
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (high << 32) | (state >> 32);
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>((next() >> 20) % n); }

  // A value of exponent field `field` (below 0x7FE) and a random fraction.
  uint64_t with_field(uint32_t field) { return (static_cast<uint64_t>(field) << 52) | (next() & fraction_mask); }
  uint64_t any() { return with_field(below(0x7FEu)); }

  // The next pair, in either order.
  void pair(uint64_t* a, uint64_t* b) {
    uint64_t x = any();
    uint64_t y = 0u;
    const uint32_t field = static_cast<uint32_t>(x >> 52);
    switch (below(8)) {
      case 0:  // unrelated values
        y = any();
        break;
      case 1: {  // exponents at most 60 apart
        const uint32_t d = below(61);
        y = with_field(field > d ? field - d : 0u);
        break;
      }
      case 2:  // subnormals, with subnormals or small normal values
        x = next() & fraction_mask;
        y = below(2) ? (next() & fraction_mask) : with_field(1u + below(3));
        break;
      case 3: {  // the smaller value ends exactly half a unit of the larger
        const uint32_t d = 1u + below(52);
        const uint32_t top = field < d + 1u ? d + 1u : field;
        x = with_field(top);
        const uint64_t low = (static_cast<uint64_t>(1) << d) - 1u;
        y = (static_cast<uint64_t>(top - d) << 52) | ((next() & fraction_mask & ~low) | (low + 1u) / 2u);
        break;
      }
      case 4: {  // a significand of all ones (or nearly): the sum carries
        const uint32_t top = 1u + below(0x7FCu);
        x = (static_cast<uint64_t>(top) << 52) | (fraction_mask - below(4));
        const uint32_t d = below(56);
        y = top > d ? with_field(top - d) : (next() & fraction_mask);
        if (below(2)) {
          y = (static_cast<uint64_t>(top > 53u ? top - 53u : 0u) << 52) | (below(2) ? 0u : next() & 7u);
        }
        break;
      }
      case 5:  // a zero
        y = below(2) ? 0u : next() & 3u;
        break;
      case 6:  // equal values
        y = x;
        break;
      default:  // the largest exponents
        x = with_field(0x7FDu - below(2));
        y = with_field(0x7FDu - below(4));
        break;
    }
    if (below(2)) {
      *a = x;
      *b = y;
    } else {
      *a = y;
      *b = x;
    }
  }
};

}  // namespace nonnegative_pairs

#endif  // EMLEARN_GEN_TESTS_NONNEGATIVE_PAIRS_HPP
