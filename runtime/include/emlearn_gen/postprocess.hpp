// emlearn-gen runtime: post-processing of a model's stream of predictions.
//
// - moving_average: the mean of the last `window` probability vectors;
// - exponential_smoothing: v = v + alpha (x - v), starting at the first x;
// - majority_vote: the most frequent of the last `window` labels, ties going
//   to the label seen most recently among the tied;
// - hysteresis: on when a score goes above `high`, off when it goes below
//   `low`;
// - n_of_m: an event when at least n of the last m inputs were positive.
//
// Each is a small struct over memory the caller owns (a ring buffer whose
// size in bytes the *_bytes function gives): no heap, no exceptions. Before
// the window is full, the statistics are over the inputs seen since the
// last reset. Labels and events are exact; the float results are rounded
// as stated in docs/signal.md, in a fixed order, so the host and every
// device compute the same bits.
#ifndef EMLEARN_GEN_POSTPROCESS_HPP
#define EMLEARN_GEN_POSTPROCESS_HPP

#include "common.hpp"
#include "math.hpp"

namespace emlearn_gen {

// --------------------------------------------------------------------------
// Moving average of probability vectors

struct moving_average {
  float* ring;         ///< window rows of n_classes floats
  uint32_t window;
  uint32_t n_classes;
  uint32_t count;      ///< rows held, up to window
  uint32_t next;       ///< the row the next vector goes to
};

/// Bytes of ring memory a moving average needs.
constexpr size_t moving_average_bytes(uint32_t window, uint32_t n_classes) {
  return static_cast<size_t>(window) * n_classes * sizeof(float);
}

/// Starts an empty moving average over `memory` (`bytes` long).
/// Returns bad_argument for a null memory or a zero window or n_classes,
/// size_mismatch when bytes < moving_average_bytes(window, n_classes).
inline status moving_average_init(moving_average* s, float* memory, size_t bytes, uint32_t window,
                                  uint32_t n_classes) {
  if (s == NULL || memory == NULL || window == 0u || n_classes == 0u) {
    return status::bad_argument;
  }
  if (bytes / sizeof(float) / n_classes < window) {
    return status::size_mismatch;
  }
  s->ring = memory;
  s->window = window;
  s->n_classes = n_classes;
  s->count = 0u;
  s->next = 0u;
  return status::ok;
}

/// Forgets every vector.
inline void moving_average_reset(moving_average* s) {
  s->count = 0u;
  s->next = 0u;
}

/// Adds `proba` (n_classes floats) and writes the mean of the vectors held
/// to `out` (n_classes floats; may be proba): for each class, the sum from
/// the oldest vector to the newest, divided by their number. Summing afresh
/// keeps no running sum whose rounding errors would accumulate.
inline void moving_average_update(moving_average* s, const float* proba, float* out) {
  const uint32_t classes = s->n_classes;
  float* row = s->ring + s->next * classes;
  for (uint32_t k = 0; k < classes; ++k) {
    row[k] = proba[k];
  }
  s->next = s->next + 1u == s->window ? 0u : s->next + 1u;
  if (s->count < s->window) {
    ++s->count;
  }
  const uint32_t oldest = (s->next + s->window - s->count) % s->window;
  const float n = static_cast<float>(s->count);
  for (uint32_t k = 0; k < classes; ++k) {
    uint32_t j = oldest;
    float sum = s->ring[j * classes + k];
    for (uint32_t m = 1; m < s->count; ++m) {
      j = j + 1u == s->window ? 0u : j + 1u;
      sum = sum + s->ring[j * classes + k];
    }
    out[k] = sum / n;
  }
}

// --------------------------------------------------------------------------
// Exponential smoothing

struct exponential_smoothing {
  float* value;        ///< n_classes floats: the smoothed vector
  uint32_t n_classes;
  float alpha;         ///< weight of the newest input, in (0, 1]
  bool primed;         ///< false until the first input
};

/// Bytes of memory an exponential smoothing needs.
constexpr size_t exponential_smoothing_bytes(uint32_t n_classes) {
  return static_cast<size_t>(n_classes) * sizeof(float);
}

/// Starts an exponential smoothing over `memory` (`bytes` long).
/// Returns bad_argument for a null memory, a zero n_classes or an alpha
/// outside (0, 1] (NaN included), size_mismatch when bytes are too few.
inline status exponential_smoothing_init(exponential_smoothing* s, float* memory, size_t bytes,
                                         uint32_t n_classes, float alpha) {
  if (s == NULL || memory == NULL || n_classes == 0u || !(alpha > 0.0f && alpha <= 1.0f)) {
    return status::bad_argument;
  }
  if (bytes < exponential_smoothing_bytes(n_classes)) {
    return status::size_mismatch;
  }
  s->value = memory;
  s->n_classes = n_classes;
  s->alpha = alpha;
  s->primed = false;
  return status::ok;
}

/// Forgets the smoothed value: the next input becomes it.
inline void exponential_smoothing_reset(exponential_smoothing* s) { s->primed = false; }

/// Smooths `x` (n_classes floats) into the value, written to `out` (may be
/// x): value = x on the first input, then value + alpha (x - value).
inline void exponential_smoothing_update(exponential_smoothing* s, const float* x, float* out) {
  for (uint32_t k = 0; k < s->n_classes; ++k) {
    const float v = s->value[k];
    s->value[k] = s->primed ? v + rounded(s->alpha * (x[k] - v)) : x[k];
    out[k] = s->value[k];
  }
  s->primed = true;
}

// --------------------------------------------------------------------------
// Majority vote over labels

struct majority_vote {
  int32_t* ring;    ///< the last `window` labels
  uint32_t window;
  uint32_t count;   ///< labels held, up to window
  uint32_t next;    ///< the slot the next label goes to
};

/// Bytes of ring memory a majority vote needs.
constexpr size_t majority_vote_bytes(uint32_t window) { return static_cast<size_t>(window) * sizeof(int32_t); }

/// Starts an empty vote over `memory` (`bytes` long).
/// Returns bad_argument for a null memory or a zero window, size_mismatch
/// when bytes < majority_vote_bytes(window).
inline status majority_vote_init(majority_vote* s, int32_t* memory, size_t bytes, uint32_t window) {
  if (s == NULL || memory == NULL || window == 0u) {
    return status::bad_argument;
  }
  if (bytes / sizeof(int32_t) < window) {
    return status::size_mismatch;
  }
  s->ring = memory;
  s->window = window;
  s->count = 0u;
  s->next = 0u;
  return status::ok;
}

/// Forgets every label.
inline void majority_vote_reset(majority_vote* s) {
  s->count = 0u;
  s->next = 0u;
}

/// Adds `label` and returns the most frequent label held; among labels held
/// equally often, the one whose latest occurrence is the most recent. Takes
/// window^2 comparisons and no memory per class, so labels may be any int32.
inline int32_t majority_vote_update(majority_vote* s, int32_t label) {
  s->ring[s->next] = label;
  s->next = s->next + 1u == s->window ? 0u : s->next + 1u;
  if (s->count < s->window) {
    ++s->count;
  }
  // Slot of the label `age` steps old (0: the newest).
  const uint32_t newest = (s->next + s->window - 1u) % s->window;
  int32_t best = label;
  uint32_t best_votes = 0u;
  for (uint32_t age = 0; age < s->count; ++age) {
    const int32_t candidate = s->ring[(newest + s->window - age) % s->window];
    bool seen_newer = false;
    uint32_t votes = 0u;
    for (uint32_t other = 0; other < s->count; ++other) {
      if (s->ring[(newest + s->window - other) % s->window] == candidate) {
        seen_newer = seen_newer || other < age;
        ++votes;
      }
    }
    // Newest first and strictly more votes: a tie keeps the more recent.
    if (!seen_newer && votes > best_votes) {
      best = candidate;
      best_votes = votes;
    }
  }
  return best;
}

// --------------------------------------------------------------------------
// Hysteresis on a score

struct hysteresis {
  float low;
  float high;
  bool on;
};

/// Starts off. Needs no memory. Returns bad_argument for a null s, a NaN
/// threshold or low > high.
inline status hysteresis_init(hysteresis* s, float low, float high) {
  if (s == NULL || !(low <= high)) {
    return status::bad_argument;
  }
  s->low = low;
  s->high = high;
  s->on = false;
  return status::ok;
}

/// Turns off.
inline void hysteresis_reset(hysteresis* s) { s->on = false; }

/// Turns on when `score` > high, off when `score` < low (strictly), and
/// otherwise stays as it is (a NaN score changes nothing). Returns the state.
inline bool hysteresis_update(hysteresis* s, float score) {
  if (s->on ? score < s->low : score > s->high) {
    s->on = !s->on;
  }
  return s->on;
}

// --------------------------------------------------------------------------
// N of the last M

struct n_of_m {
  uint8_t* ring;     ///< the last m inputs, 1 positive, 0 not
  uint32_t n;
  uint32_t m;
  uint32_t count;    ///< inputs held, up to m
  uint32_t next;     ///< the slot the next input goes to
  uint32_t positive; ///< positive inputs held
};

/// Bytes of ring memory an n-of-m detector needs.
constexpr size_t n_of_m_bytes(uint32_t m) { return static_cast<size_t>(m); }

/// Starts an empty detector over `memory` (`bytes` long).
/// Returns bad_argument for a null memory or unless 1 <= n <= m,
/// size_mismatch when bytes < n_of_m_bytes(m).
inline status n_of_m_init(n_of_m* s, uint8_t* memory, size_t bytes, uint32_t n, uint32_t m) {
  if (s == NULL || memory == NULL || n == 0u || n > m) {
    return status::bad_argument;
  }
  if (bytes < n_of_m_bytes(m)) {
    return status::size_mismatch;
  }
  s->ring = memory;
  s->n = n;
  s->m = m;
  s->count = 0u;
  s->next = 0u;
  s->positive = 0u;
  return status::ok;
}

/// Forgets every input.
inline void n_of_m_reset(n_of_m* s) {
  s->count = 0u;
  s->next = 0u;
  s->positive = 0u;
}

/// Adds one input and returns true when at least n of the inputs held (the
/// last m, or all since the reset while fewer) were positive.
inline bool n_of_m_update(n_of_m* s, bool positive) {
  if (s->count == s->m) {
    s->positive -= s->ring[s->next];
  } else {
    ++s->count;
  }
  s->ring[s->next] = positive ? 1u : 0u;
  s->positive += positive ? 1u : 0u;
  s->next = s->next + 1u == s->m ? 0u : s->next + 1u;
  return s->positive >= s->n;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_POSTPROCESS_HPP
