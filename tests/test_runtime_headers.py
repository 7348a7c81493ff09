"""Header hygiene of the C++ runtime (runtime/include/emlearn_gen/*.hpp).

Each header must compile on its own and together with the others, warning-free
as C++11/14/17/20 with g++ and clang++ and with avr-g++ for an ATmega2560,
without exceptions or RTTI, and may include only C headers (avr-g++ ships no
C++ standard library).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest

# The flags the runtime promises to compile cleanly under.
from emlearn_gen.testing import STRICT_FLAGS

REPO = Path(__file__).resolve().parent.parent
INCLUDE_DIR = REPO / "runtime" / "include"
HEADER_DIR = INCLUDE_DIR / "emlearn_gen"
HEADERS = sorted(HEADER_DIR.glob("*.hpp"))
REQUIRE_TOOLS = os.environ.get("EMLEARN_GEN_REQUIRE_DEVICE") == "1"
TIMEOUT_S = 120

STANDARDS = ["c++11", "c++14", "c++17", "c++20"]
HOST_COMPILERS = {"g++": "g++", "clang++": "clang"}  # compiler -> Debian package
AVR_PACKAGES = "gcc-avr avr-libc"
AVR_FLAGS = ["-mmcu=atmega2560", "-std=c++11", "-Os"]

# C headers the runtime may include; <avr/pgmspace.h> only under __AVR__.
ALLOWED_C_HEADERS = {"stdint.h", "stddef.h", "string.h", "math.h"}
AVR_ONLY_HEADERS = {"avr/pgmspace.h"}

FAST_MATH_ERROR = "IEEE float semantics"

# Explicit instantiations of every kernel template, so that the warning flags
# see the template bodies for each word and arithmetic type (a header that is
# only included leaves them unchecked).
KERNEL_INSTANTIATIONS = """
namespace eg = emlearn_gen;
template uint32_t eg::read_bits<uint32_t>(const uint8_t*, uint32_t, uint8_t);
template uint64_t eg::read_bits<uint64_t>(const uint8_t*, uint32_t, uint8_t);
template float eg::table_read<float>(const float*);
template double eg::table_read<double>(const double*);
template uint8_t eg::table_read<uint8_t>(const uint8_t*);
template eg::soft_double eg::table_read<eg::soft_double>(const eg::soft_double*);
template int32_t eg::argmax<float>(const float*, int32_t);
template int32_t eg::argmax<double>(const double*, int32_t);
template int32_t eg::argmax<eg::soft_double>(const eg::soft_double*, int32_t);
// Word given, the descriptor type deduced: the kernels take a forest<R> or
// any type with the same members.
#define EG_FOREST_KERNELS(W, R) \\
  template uint32_t eg::forest_leaf<W>(const eg::forest<R>&, uint32_t, const float*, bool); \\
  template void eg::forest_add_leaf<W>(const eg::forest<R>&, uint32_t, R*); \\
  template void eg::forest_mean<W>(const eg::forest<R>&, const float*, R*); \\
  template void eg::forest_mean_batch<W>(const eg::forest<R>&, const float*, uint32_t, R*); \\
  template void eg::forest_sum<W>(const eg::forest<R>&, const float*, R*); \\
  template int32_t eg::isolation_predict<W>(const eg::forest<R>&, const float*); \\
  template float eg::isolation_score<W>(const eg::forest<R>&, const float*); \\
  template float eg::isolation_decision<W>(const eg::forest<R>&, const float*); \\
  template int32_t eg::boost_label<W>(const eg::forest<R>&, const float*, R*); \\
  template R eg::adaboost_median<W>(const eg::forest<R>&, const float*, R*, uint32_t*); \\
  template void eg::boost_raw<W>(const eg::forest<R>&, const float*, R*, float*); \\
  template void eg::boost_proba<W>(const eg::forest<R>&, const float*, R*, float*); \\
  template eg::status eg::forest_validate<W>(const eg::forest<R>&, size_t, size_t, size_t); \\
  template void eg::forest_votes<W>(const eg::forest<R>&, const float*, uint32_t*);
// Kernels without a Word.
#define EG_FOREST_WORDLESS_KERNELS(R) \\
  template void eg::forest_vote_shares(const eg::forest<R>&, const uint32_t*, float*); \\
  template int32_t eg::argmax_of_mean(const eg::forest<R>&, R*);
EG_FOREST_WORDLESS_KERNELS(float)
EG_FOREST_WORDLESS_KERNELS(double)
EG_FOREST_WORDLESS_KERNELS(eg::soft_double)
EG_FOREST_KERNELS(uint32_t, float)
EG_FOREST_KERNELS(uint64_t, float)
EG_FOREST_KERNELS(uint32_t, double)
EG_FOREST_KERNELS(uint64_t, double)
EG_FOREST_KERNELS(uint32_t, eg::soft_double)
EG_FOREST_KERNELS(uint64_t, eg::soft_double)

// Model tables and their descriptor in flash (PROGMEM on AVR), read the way
// a generated header reads them; real64 is soft_double where double has 32
// bits.
static const uint8_t demo_nodes[9] EMLEARN_GEN_TABLE_ATTR = {3};
static const uint8_t demo_roots[8] EMLEARN_GEN_TABLE_ATTR = {0};
static const uint8_t demo_codes[8] EMLEARN_GEN_TABLE_ATTR = {2};
static const float demo_thresholds[1] EMLEARN_GEN_TABLE_ATTR = {0.5f};
static const float demo_leaves[2] EMLEARN_GEN_TABLE_ATTR = {0.0f, 1.0f};
static const eg::real64 demo_leaves64[2] EMLEARN_GEN_TABLE_ATTR = {
    EMLEARN_GEN_F64(0x0000000000000000ull, 0.0), EMLEARN_GEN_F64(0x3ff0000000000000ull, 1.0)};
constexpr eg::forest<float> demo EMLEARN_GEN_TABLE_ATTR = {
    demo_nodes, demo_thresholds, demo_leaves, demo_codes, demo_roots,
    1u, 1u, 2u, 2u, 1u, 1u, 1u, 0u, 0u, 0u, 0u, 1u, NULL, NULL, 0u, NULL, NULL, NULL, 0u, 0u, NULL, 0u, NULL, 0u, 0u, NULL, NULL, 0u, 0u, 0u, NULL, 0u};
constexpr eg::forest<eg::real64> demo64 EMLEARN_GEN_TABLE_ATTR = {
    demo_nodes, demo_thresholds, demo_leaves64, demo_codes, demo_roots,
    1u, 1u, 2u, 2u, 1u, 1u, 1u, 0u, 0u, 0u, 0u, 1u, NULL, NULL, 0u, NULL, NULL, NULL, 0u, 0u, NULL, 0u, NULL, 0u, 0u, NULL, NULL, 0u, 0u, 0u, NULL, 0u};

int32_t demo_predict(const float* x) {
  const eg::forest<float> f = eg::table_read(&demo);
  float out[1];
  if (eg::forest_validate<uint32_t>(f, sizeof(demo_nodes), sizeof(demo_roots), sizeof(demo_codes)) !=
      eg::status::ok) {
    return -1;
  }
  eg::forest_mean<uint32_t>(f, x, out);
  return eg::argmax(out, 1) + static_cast<int32_t>(eg::forest_leaf<uint32_t>(f, 0, x));
}

// The layout as compile-time constants, the way generated headers pass it.
struct demo_static {
  typedef eg::real64 real_type;
  static constexpr const uint8_t* nodes = demo_nodes;
  static constexpr const float* thresholds = demo_thresholds;
  static constexpr const real_type* leaves = demo_leaves64;
  static constexpr const uint8_t* leaf_codes = demo_codes;
  static constexpr const uint8_t* roots = demo_roots;
  static constexpr uint32_t n_nodes = 1u;
  static constexpr uint32_t n_thresholds = 1u;
  static constexpr uint32_t n_leaves = 2u;
  static constexpr uint32_t n_values = 2u;
  static constexpr uint32_t n_trees = 1u;
  static constexpr uint32_t n_features = 1u;
  static constexpr uint16_t leaf_width = 1u;
  static constexpr uint8_t feature_bits = 0u;
  static constexpr uint8_t ref_bits = 0u;
  static constexpr uint8_t thr_bits = 0u;
  static constexpr uint8_t root_bits = 0u;
  static constexpr uint8_t value_bits = 1u;
  static constexpr const float* cat_values = NULL;
  static constexpr const uint8_t* cat_starts = NULL;
  static constexpr const uint8_t* cat_bits = NULL;
  static constexpr uint32_t n_cat_values = 0u;
  static constexpr uint8_t cat_start_bits = 0u;
  static constexpr const uint8_t* tree_classes = NULL;
  static constexpr uint8_t tree_class_bits = 0u;
  static constexpr const uint8_t* leaf_classes = NULL;
  static constexpr uint8_t leaf_class_bits = 0u;
  static constexpr uint8_t record_bytes = 0u;
  static constexpr const uint8_t* leaf_starts = NULL;
  static constexpr const uint8_t* leaf_entries = NULL;
  static constexpr uint8_t entry_class_bits = 0u;
  static constexpr uint8_t start_bits = 0u;
  static constexpr uint8_t nonnegative_thresholds = 0u;
  static constexpr const int16_t* leaf_fixed = NULL;
  static constexpr uint32_t n_fixed = 0u;
};

float demo_static_predict(const float* x) {
  eg::real64 out[1];
  eg::forest_mean<uint32_t>(demo_static(), x, out);
  return eg::to_float(out[0]) + static_cast<float>(eg::forest_leaf<uint64_t>(demo_static(), 0, x));
}

float demo_predict64(const float* x) {
  eg::real64 out[1];
  eg::forest_mean<uint32_t>(eg::table_read(&demo64), x, out);
  return eg::to_float(out[0]);
}

// Linear models: the kernels on the run-time descriptor ...
template uint32_t eg::linear_n_classes<eg::linear_model>(const eg::linear_model&);
template void eg::linear_scores<eg::linear_model>(const eg::linear_model&, const float*, float*);
template int32_t eg::linear_label<eg::linear_model>(const eg::linear_model&, const float*, float*);
template void eg::linear_proba<eg::linear_model>(const eg::linear_model&, const float*, float*);
template void eg::linear_predict<eg::linear_model>(const eg::linear_model&, const float*, float*);
template eg::status eg::linear_validate<eg::linear_model>(const eg::linear_model&, size_t, size_t);

// ... and on tables in flash with a compile-time layout, as generated
// headers pass them.
static const float demo_weights[6] EMLEARN_GEN_TABLE_ATTR = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f};
static const float demo_intercepts[3] EMLEARN_GEN_TABLE_ATTR = {0.1f, -0.2f, 0.3f};
struct demo_linear {
  static constexpr const float* weights = demo_weights;
  static constexpr const float* intercepts = demo_intercepts;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_scores = 3u;
  static constexpr uint8_t link = eg::linear_link::softmax;
};

float demo_linear_predict(const float* x) {
  float out[3];
  if (eg::linear_validate(demo_linear(), 6u, 3u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::linear_label(demo_linear(), x, out);
  eg::linear_proba(demo_linear(), x, out);
  eg::linear_predict(demo_linear(), x, out);
  return out[0] + static_cast<float>(label) + static_cast<float>(eg::linear_n_classes(demo_linear()));
}

// Support vector machines: the kernels on the run-time descriptor ...
template uint32_t eg::svm_n_decisions<eg::svm_model>(const eg::svm_model&);
template float eg::svm_kernel_value<eg::svm_model>(const eg::svm_model&, uint32_t, const float*);
template void eg::svm_decisions<eg::svm_model>(const eg::svm_model&, const float*, float*);
template void eg::svm_decision_function<eg::svm_model>(const eg::svm_model&, const float*, float*);
template int32_t eg::svm_label<eg::svm_model>(const eg::svm_model&, const float*, float*);
template float eg::svm_value<eg::svm_model>(const eg::svm_model&, const float*);
template int32_t eg::svm_outlier<eg::svm_model>(const eg::svm_model&, const float*);
template float eg::svm_score<eg::svm_model>(const eg::svm_model&, const float*);
template eg::status eg::svm_validate<eg::svm_model>(const eg::svm_model&, size_t, size_t, size_t, size_t, size_t, size_t,
                                                   size_t);
template void eg::svm_proba<eg::svm_model>(const eg::svm_model&, const float*, float*, float*);

// ... and on tables in flash with a compile-time layout: three classes, one
// support vector each, an rbf kernel.
static const float demo_sv[6] EMLEARN_GEN_TABLE_ATTR = {0.0f, 1.0f, 1.0f, 0.0f, -1.0f, -1.0f};
static const float demo_dual[6] EMLEARN_GEN_TABLE_ATTR = {1.0f, 0.5f, -1.0f, -0.5f, 0.25f, -0.25f};
static const float demo_svm_intercepts[3] EMLEARN_GEN_TABLE_ATTR = {0.1f, -0.2f, 0.3f};
static const uint32_t demo_class_start[4] EMLEARN_GEN_TABLE_ATTR = {0u, 1u, 2u, 3u};
static const float demo_params[3] EMLEARN_GEN_TABLE_ATTR = {0.5f, 0.0f, 0.0f};
static const float demo_prob_a[3] EMLEARN_GEN_TABLE_ATTR = {-1.5f, -2.0f, -1.0f};
static const float demo_prob_b[3] EMLEARN_GEN_TABLE_ATTR = {0.1f, 0.0f, -0.1f};
struct demo_svm {
  static constexpr const float* support_vectors = demo_sv;
  static constexpr const float* dual_coef = demo_dual;
  static constexpr const float* intercepts = demo_svm_intercepts;
  static constexpr const uint32_t* class_start = demo_class_start;
  static constexpr const float* params = demo_params;
  static constexpr const float* prob_a = demo_prob_a;
  static constexpr const float* prob_b = demo_prob_b;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_sv = 3u;
  static constexpr uint32_t n_classes = 3u;
  static constexpr uint32_t degree = 3u;
  static constexpr uint8_t kernel = eg::svm_kernel::rbf;
  static constexpr uint8_t ovr = 1u;
  static constexpr uint8_t break_ties = 1u;
  static constexpr uint8_t has_proba = 1u;
  static constexpr uint8_t real_bits = 32u;
};

float demo_svm_predict(const float* x) {
  float dec[3];
  float out[3];
  float coupling[12];
  if (eg::svm_validate(demo_svm(), 6u, 6u, 3u, 4u, 3u, 3u, 3u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::svm_label(demo_svm(), x, dec);
  eg::svm_proba(demo_svm(), dec, coupling, out);
  eg::svm_decision_function(demo_svm(), dec, out);
  return out[0] + static_cast<float>(label) + eg::svm_value(demo_svm(), x) + eg::svm_score(demo_svm(), x) +
         static_cast<float>(eg::svm_outlier(demo_svm(), x));
}

// Naive Bayes: the kernels on the run-time descriptor ...
template void eg::naive_bayes_jll<eg::naive_bayes_model>(const eg::naive_bayes_model&, const float*, float*);
template int32_t eg::naive_bayes_label<eg::naive_bayes_model>(const eg::naive_bayes_model&, const float*, float*);
template void eg::naive_bayes_log_proba<eg::naive_bayes_model>(const eg::naive_bayes_model&, const float*, float*);
template void eg::naive_bayes_proba<eg::naive_bayes_model>(const eg::naive_bayes_model&, const float*, float*);
template eg::status eg::naive_bayes_validate<eg::naive_bayes_model>(const eg::naive_bayes_model&, size_t, size_t,
                                                                    size_t, size_t, size_t);

// ... and on tables in flash with a compile-time layout, one per kind.
static const float demo_nb_weights[4] EMLEARN_GEN_TABLE_ATTR = {0.5f, 1.0f, 2.0f, 0.25f};
static const float demo_nb_means[4] EMLEARN_GEN_TABLE_ATTR = {0.0f, 1.0f, -1.0f, 2.0f};
static const float demo_nb_constants[2] EMLEARN_GEN_TABLE_ATTR = {-1.0f, -2.0f};
static const int16_t demo_nb_categories[2] EMLEARN_GEN_TABLE_ATTR = {1, 1};
static const float demo_nb_thresholds[1] EMLEARN_GEN_TABLE_ATTR = {0.5f};
template <uint8_t Kind>
struct demo_nb {
  static constexpr const float* weights = demo_nb_weights;
  static constexpr const float* means = demo_nb_means;
  static constexpr const float* constants = demo_nb_constants;
  static constexpr const int16_t* categories = demo_nb_categories;
  static constexpr const float* thresholds = demo_nb_thresholds;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_classes = 2u;
  static constexpr uint8_t kind = Kind;
};

template <uint8_t Kind>
float demo_nb_predict(const float* x) {
  float out[2];
  if (eg::naive_bayes_validate(demo_nb<Kind>(), Kind == eg::naive_bayes_kind::categorical ? 2u : 4u, 4u, 2u,
                               2u, 1u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::naive_bayes_label(demo_nb<Kind>(), x, out);
  eg::naive_bayes_proba(demo_nb<Kind>(), x, out);
  eg::naive_bayes_log_proba(demo_nb<Kind>(), x, out);
  eg::naive_bayes_jll(demo_nb<Kind>(), x, out);
  return out[0] + static_cast<float>(label);
}
template float demo_nb_predict<eg::naive_bayes_kind::linear>(const float*);
template float demo_nb_predict<eg::naive_bayes_kind::binarized>(const float*);
template float demo_nb_predict<eg::naive_bayes_kind::gaussian>(const float*);
template float demo_nb_predict<eg::naive_bayes_kind::categorical>(const float*);

// Transforms: the kernels on the run-time descriptor ...
template void eg::transforms_run<eg::transforms_model>(const eg::transforms_model&, const float*, float*, float*);
template void eg::transforms_score_samples<eg::transforms_model>(const eg::transforms_model&, const float*, float*,
                                                                 float*);
template eg::status eg::transforms_validate<eg::transforms_model>(const eg::transforms_model&, size_t, size_t,
                                                                  size_t, size_t, size_t);

// ... and on tables in flash with a compile-time layout: scale, select, project.
static const uint8_t demo_tf_ops[3] EMLEARN_GEN_TABLE_ATTR = {0, 4, 9};
static const uint32_t demo_tf_shapes[15] EMLEARN_GEN_TABLE_ATTR = {2u, 0u, 0u, 0u, 2u, 1u, 4u, 0u, 0u, 2u,
                                                                   1u, 4u, 0u, 0u, 1u};
static const float demo_tf_params[6] EMLEARN_GEN_TABLE_ATTR = {0.5f, -1.0f, 2.0f, 4.0f, 0.25f, 3.0f};
// Six indices at least, as the family pads them: a spline step reads six
// at fixed positions, which g++ -Warray-bounds sees in every program.
static const uint32_t demo_tf_indices[6] EMLEARN_GEN_TABLE_ATTR = {1u, 0u, 0u, 0u, 0u, 0u};
static const float demo_tf_quadratic[2] EMLEARN_GEN_TABLE_ATTR = {-0.5f, -1.0f};
struct demo_tf {
  static constexpr const uint8_t* ops = demo_tf_ops;
  static constexpr const uint32_t* shapes = demo_tf_shapes;
  static constexpr const float* params = demo_tf_params;
  static constexpr const uint32_t* indices = demo_tf_indices;
  static constexpr const float* quadratic = demo_tf_quadratic;
  static constexpr uint32_t n_steps = 3u;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_outputs = 1u;
  static constexpr uint32_t max_width = 2u;
};
float demo_tf_transform(const float* x) {
  float scratch[4];
  float out[1];
  if (eg::transforms_validate(demo_tf(), 3u, 15u, 6u, 6u, 2u) != eg::status::ok) {
    return -1.0f;
  }
  eg::transforms_run(demo_tf(), x, out, scratch);
  float score[1];
  eg::transforms_score_samples(demo_tf(), x, score, scratch);
  return out[0] + score[0];
}

// Window statistics: features codes in flash, the window in RAM, and the
// same through a transforms program's window_stats step.
template eg::status eg::window_stats<const uint8_t*>(const float*, uint32_t, uint32_t, const uint8_t*, uint32_t,
                                                     float*);
template eg::status eg::window_stats_validate<const uint32_t*>(uint32_t, uint32_t, const uint32_t*, uint32_t);
static const uint8_t demo_ws_features[3] EMLEARN_GEN_TABLE_ATTR = {1u, 5u, 7u};
static const uint8_t demo_ws_ops[1] EMLEARN_GEN_TABLE_ATTR = {15};
static const uint32_t demo_ws_shapes[5] EMLEARN_GEN_TABLE_ATTR = {6u, 0u, 0u, 0u, 8u};
static const float demo_ws_params[2] EMLEARN_GEN_TABLE_ATTR = {0.0f, 0.0f};
static const uint32_t demo_ws_indices[6] EMLEARN_GEN_TABLE_ATTR = {4u, 2u, 3u, 1u, 5u, 7u};
struct demo_ws {
  static constexpr const uint8_t* ops = demo_ws_ops;
  static constexpr const uint32_t* shapes = demo_ws_shapes;
  static constexpr const float* params = demo_ws_params;
  static constexpr const uint32_t* indices = demo_ws_indices;
  static constexpr const float* quadratic = demo_ws_params;
  static constexpr uint32_t n_steps = 1u;
  static constexpr uint32_t n_features = 8u;
  static constexpr uint32_t n_outputs = 6u;
  static constexpr uint32_t max_width = 0u;
};
float demo_window_stats(const float* window) {
  float out[6];
  if (eg::window_stats(window, 4u, 2u, demo_ws_features, 3u, out) != eg::status::ok ||
      eg::transforms_validate(demo_ws(), 1u, 5u, 2u, 6u, 0u) != eg::status::ok) {
    return -1.0f;
  }
  float again[6];
  eg::transforms_run(demo_ws(), window, again, static_cast<float*>(NULL));
  return out[0] + again[5];
}

// Mixtures and envelopes: the kernels on the run-time descriptor ...
template float eg::mixture_quadratic<eg::mixture_model>(const eg::mixture_model&, const float*, uint32_t);
template void eg::mixture_weighted_log_prob<eg::mixture_model>(const eg::mixture_model&, const float*, float*);
template int32_t eg::mixture_label<eg::mixture_model>(const eg::mixture_model&, const float*, float*);
template float eg::mixture_score<eg::mixture_model>(const eg::mixture_model&, const float*, float*);
template void eg::mixture_proba<eg::mixture_model>(const eg::mixture_model&, const float*, float*);
template float eg::envelope_score<eg::mixture_model>(const eg::mixture_model&, const float*);
template float eg::envelope_decision<eg::mixture_model>(const eg::mixture_model&, const float*);
template int32_t eg::envelope_predict<eg::mixture_model>(const eg::mixture_model&, const float*);
template eg::status eg::mixture_validate<eg::mixture_model>(const eg::mixture_model&, size_t, size_t, size_t);

// ... and on tables in flash with a compile-time layout, one per covariance
// type: 2 components of 2 features.
static const float demo_mix_means[4] EMLEARN_GEN_TABLE_ATTR = {0.0f, 1.0f, -1.0f, 2.0f};
static const float demo_mix_factors[6] EMLEARN_GEN_TABLE_ATTR = {1.0f, 0.5f, 2.0f, 0.75f, -0.25f, 1.5f};
static const float demo_mix_constants[2] EMLEARN_GEN_TABLE_ATTR = {-1.0f, -2.0f};
template <uint8_t Covariance>
struct demo_mix {
  static constexpr const float* means = demo_mix_means;
  static constexpr const float* precisions = demo_mix_factors;
  static constexpr const float* constants = demo_mix_constants;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_components = 2u;
  static constexpr uint8_t covariance = Covariance;
};

template <uint8_t Covariance>
float demo_mix_predict(const float* x) {
  float out[2];
  const size_t n_factors = eg::mixture_precision_count(Covariance, 2u, 2u);
  if (eg::mixture_validate(demo_mix<Covariance>(), 4u, n_factors, 2u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::mixture_label(demo_mix<Covariance>(), x, out);
  eg::mixture_proba(demo_mix<Covariance>(), x, out);
  return out[0] + static_cast<float>(label) + eg::mixture_score(demo_mix<Covariance>(), x, out) +
         eg::envelope_decision(demo_mix<Covariance>(), x) +
         static_cast<float>(eg::envelope_predict(demo_mix<Covariance>(), x));
}
template float demo_mix_predict<eg::mixture_covariance::full>(const float*);
template float demo_mix_predict<eg::mixture_covariance::tied>(const float*);
template float demo_mix_predict<eg::mixture_covariance::diag>(const float*);
template float demo_mix_predict<eg::mixture_covariance::spherical>(const float*);

// k-means: the kernels on the run-time descriptor ...
template float eg::clusters_sq_distance<eg::clusters_model>(const eg::clusters_model&, const float*, uint32_t);
template int32_t eg::clusters_nearest<eg::clusters_model>(const eg::clusters_model&, const float*, float*);
template int32_t eg::clusters_label<eg::clusters_model>(const eg::clusters_model&, const float*);
template float eg::clusters_nearest_sq_distance<eg::clusters_model>(const eg::clusters_model&, const float*);
template void eg::clusters_transform<eg::clusters_model>(const eg::clusters_model&, const float*, float*);
template eg::status eg::clusters_validate<eg::clusters_model>(const eg::clusters_model&, size_t);

// ... and on a table in flash with a compile-time layout: 3 centres of 2 features.
static const float demo_centers[6] EMLEARN_GEN_TABLE_ATTR = {0.0f, 1.0f, -1.0f, 2.0f, 3.0f, 0.5f};
struct demo_clusters {
  static constexpr const float* centers = demo_centers;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_clusters = 3u;
};

float demo_clusters_predict(const float* x) {
  float out[3];
  if (eg::clusters_validate(demo_clusters(), 6u) != eg::status::ok) {
    return -1.0f;
  }
  eg::clusters_transform(demo_clusters(), x, out);
  return out[0] + static_cast<float>(eg::clusters_label(demo_clusters(), x)) +
         eg::clusters_nearest_sq_distance(demo_clusters(), x);
}

// The dense layer on pointers, and on tables in flash as generated headers
// pass them (through a compile-time descriptor's members).
template void eg::dense_sums<const float*, const float*>(const float*, uint32_t, const float*, uint32_t, uint32_t,
                                                         uint32_t, const float*, float*);
template void eg::dense_sums_scaled<const int8_t*, const float*>(const int8_t*, uint32_t, float, const float*,
                                                                 uint32_t, uint32_t, uint32_t, const float*, float*);
template void eg::dense_layer<const float*, const float*>(const float*, uint32_t, const float*, uint32_t,
                                                          uint32_t, uint32_t, const float*, float*, uint8_t);
float demo_dense(float* v, uint32_t n) {
  eg::dense_activate(v, n, eg::dense_activation::tanh);
  eg::dense_layer(demo_linear::weights, 2u, demo_linear::intercepts, 1u, 2u, 2u, v, v + 2, eg::dense_activation::relu);
  return v[2];
}

// Distances between a row and a stored point, on pointers and on a table in
// flash read through a compile-time descriptor's member.
template float eg::sq_euclidean_distance<const float*>(const float*, uint32_t, uint32_t, const float*);
template float eg::manhattan_distance<const float*>(const float*, uint32_t, uint32_t, const float*);
template float eg::chebyshev_distance<const float*>(const float*, uint32_t, uint32_t, const float*);
template float eg::minkowski_reduced_distance<const float*>(const float*, uint32_t, uint32_t, const float*, float);
template float eg::metric_distance<const float*>(uint8_t, const float*, uint32_t, uint32_t, const float*, float);
float demo_distance(const float* x) {
  const float r = eg::metric_distance(eg::distance_metric::minkowski, demo_linear::weights, 2u, 2u, x, 3.0f);
  return eg::metric_true_distance(eg::distance_metric::minkowski, r, 3.0f) +
         eg::sq_euclidean_distance(demo_linear::weights, 0u, 2u, x) + eg::minkowski_term(x[0], 1.5f) +
         eg::minkowski_root(x[1], 1.5f);
}

// Nearest neighbours: the kernels on the run-time descriptor ...
template uint32_t eg::neighbors_search<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*);
template int32_t eg::knn_label<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*, float*);
template void eg::knn_proba<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*, float*);
template void eg::knn_predict<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*, float*);
template int32_t eg::radius_label<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*);
template void eg::radius_proba<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*);
template void eg::radius_predict<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*);
template int32_t eg::centroid_label<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, float*);
template void eg::centroid_decision<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, float*, float*);
template void eg::centroid_proba<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, float*);
template float eg::lof_score<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*);
template float eg::lof_decision<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*);
template int32_t eg::lof_predict<eg::neighbors_model>(const eg::neighbors_model&, const float*, float*, uint32_t*);
template eg::status eg::neighbors_validate<eg::neighbors_model>(const eg::neighbors_model&, size_t, size_t, size_t,
                                                                 size_t, size_t, size_t, size_t, size_t, size_t,
                                                                 size_t, size_t, size_t);

// ... and on tables in flash with a compile-time layout: 3 points of 2
// features stored as int16, their labels, k = 2.
static const float demo_nn_points[6] EMLEARN_GEN_TABLE_ATTR = {0.0f, 0.0f, 1.0f, 1.0f, 2.0f, 0.5f};
static const int16_t demo_nn_qpoints[6] EMLEARN_GEN_TABLE_ATTR = {-100, 0, 0, 20, 100, -20};
static const float demo_nn_qscales[2] EMLEARN_GEN_TABLE_ATTR = {0.01f, 0.025f};
static const float demo_nn_qoffsets[2] EMLEARN_GEN_TABLE_ATTR = {1.0f, 0.5f};
static const int16_t demo_nn_labels[3] EMLEARN_GEN_TABLE_ATTR = {0, 1, 1};
static const float demo_nn_values[3] EMLEARN_GEN_TABLE_ATTR = {0.5f, 1.5f, 2.5f};
static const float demo_nn_params[3] EMLEARN_GEN_TABLE_ATTR = {3.0f, 4.0f, -1.5f};
template <uint8_t Kind, uint8_t Storage>
struct demo_nn {
  static constexpr const float* points = demo_nn_points;
  static constexpr const int16_t* qpoints = demo_nn_qpoints;
  static constexpr const float* qscales = demo_nn_qscales;
  static constexpr const float* qoffsets = demo_nn_qoffsets;
  static constexpr const int16_t* labels = demo_nn_labels;
  static constexpr const float* targets = demo_nn_values;
  static constexpr const float* kdist = demo_nn_values;
  static constexpr const float* lrd = demo_nn_values;
  static constexpr const float* scaled_points = demo_nn_points;
  static constexpr const float* stds = demo_nn_qscales;
  static constexpr const float* priors = demo_nn_values;
  static constexpr const float* params = demo_nn_params;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_points = 3u;
  static constexpr uint32_t n_classes = Kind == eg::neighbors_kind::centroid ? 3u : 2u;
  static constexpr uint32_t n_outputs = 1u;
  static constexpr uint32_t k = 2u;
  static constexpr uint32_t outlier_class = 2u;
  static constexpr uint8_t kind = Kind;
  static constexpr uint8_t metric = eg::distance_metric::minkowski;
  static constexpr uint8_t weighting = eg::neighbors_weights::distance;
  static constexpr uint8_t storage = Storage;
  static constexpr uint8_t use_priors = 1u;
};

template <uint8_t Storage>
float demo_nn_predict(const float* x) {
  float best[2], xs[2], votes[3], out[3];
  uint32_t index[2];
  typedef demo_nn<eg::neighbors_kind::knn_classifier, Storage> knn;
  if (eg::neighbors_validate(knn(), 6u, 6u, 2u, 2u, 3u, 3u, 3u, 3u, 6u, 2u, 3u, 3u) != eg::status::ok) {
    return -1.0f;
  }
  int32_t label = eg::knn_label(knn(), x, best, index, votes);
  eg::knn_proba(knn(), x, best, index, out);
  eg::knn_predict(demo_nn<eg::neighbors_kind::knn_regressor, Storage>(), x, best, index, out);
  label += eg::radius_label(demo_nn<eg::neighbors_kind::radius_classifier, Storage>(), x, votes);
  eg::radius_proba(demo_nn<eg::neighbors_kind::radius_classifier, Storage>(), x, out);
  eg::radius_predict(demo_nn<eg::neighbors_kind::radius_regressor, Storage>(), x, out);
  typedef demo_nn<eg::neighbors_kind::centroid, Storage> centroid;
  label += eg::centroid_label(centroid(), x, xs, votes);
  eg::centroid_decision(centroid(), x, xs, votes, out);
  eg::centroid_proba(centroid(), x, xs, out);
  typedef demo_nn<eg::neighbors_kind::lof, Storage> lof;
  label += eg::lof_predict(lof(), x, best, index);
  return out[0] + eg::lof_score(lof(), x, best, index) + eg::lof_decision(lof(), x, best, index) +
         static_cast<float>(label);
}
template float demo_nn_predict<eg::neighbors_storage::float32>(const float*);
template float demo_nn_predict<eg::neighbors_storage::int16>(const float*);

// Perceptrons: the kernels on the run-time descriptor ...
template void eg::mlp_sums<eg::mlp_model>(const eg::mlp_model&, const float*, float*, float*, float*);
template void eg::mlp_predict<eg::mlp_model>(const eg::mlp_model&, const float*, float*, float*, float*);
template void eg::mlp_proba<eg::mlp_model>(const eg::mlp_model&, const float*, float*, float*, float*);
template int32_t eg::mlp_label<eg::mlp_model>(const eg::mlp_model&, const float*, float*, float*);
template void eg::mlp_indicator<eg::mlp_model>(const eg::mlp_model&, const float*, float*, float*, int32_t*);
template eg::status eg::mlp_validate<eg::mlp_model>(const eg::mlp_model&, size_t, size_t, size_t, size_t, size_t);

// ... and on tables in flash with a compile-time layout: 2 inputs, 3
// hidden units, 2 outputs.
static const float demo_mlp_weights[12] EMLEARN_GEN_TABLE_ATTR = {
    0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f, 0.1f, 0.2f, 0.3f, -0.4f, 0.5f, -0.6f};
static const float demo_mlp_biases[5] EMLEARN_GEN_TABLE_ATTR = {0.1f, -0.2f, 0.3f, 0.0f, 1.0f};
static const uint32_t demo_mlp_sizes[3] EMLEARN_GEN_TABLE_ATTR = {2u, 3u, 2u};
static const int8_t demo_mlp_qweights[12] EMLEARN_GEN_TABLE_ATTR = {5, -10, 20, 2, -7, 15, 1, 2, 3, -4, 5, -6};
static const float demo_mlp_scales[2] EMLEARN_GEN_TABLE_ATTR = {0.1f, 0.05f};
struct demo_mlp {
  static constexpr const float* weights = demo_mlp_weights;
  static constexpr const int8_t* qweights = demo_mlp_qweights;
  static constexpr const float* scales = demo_mlp_scales;
  static constexpr const float* biases = demo_mlp_biases;
  static constexpr const uint32_t* sizes = demo_mlp_sizes;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_layers = 2u;
  static constexpr uint32_t n_outputs = 2u;
  static constexpr uint32_t max_width = 3u;
  static constexpr uint8_t hidden_activation = eg::dense_activation::relu;
  static constexpr uint8_t output_activation = eg::dense_activation::softmax;
  static constexpr uint8_t weight_type = eg::mlp_weights::int8;
};

float demo_mlp_predict(const float* x) {
  float a[3], b[3], out[2];
  int32_t labels[2];
  if (eg::mlp_validate(demo_mlp(), 12u, 12u, 2u, 5u, 3u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::mlp_label(demo_mlp(), x, a, b);
  eg::mlp_indicator(demo_mlp(), x, a, b, labels);
  eg::mlp_proba(demo_mlp(), x, a, b, out);
  eg::mlp_predict(demo_mlp(), x, a, b, out);
  return out[0] + static_cast<float>(label + labels[1]);
}

// float64 perceptrons and SVMs: real64 tables, sums and activations.
static const eg::real64 demo_mlp64_weights[12] EMLEARN_GEN_TABLE_ATTR = {
    EMLEARN_GEN_F64(0x3fe0000000000000ull, 0.5), EMLEARN_GEN_F64(0xbff0000000000000ull, -1.0),
    EMLEARN_GEN_F64(0x4000000000000000ull, 2.0), EMLEARN_GEN_F64(0x3fd0000000000000ull, 0.25),
    EMLEARN_GEN_F64(0xbfe8000000000000ull, -0.75), EMLEARN_GEN_F64(0x3ff8000000000000ull, 1.5),
    EMLEARN_GEN_F64(0x3fe0000000000000ull, 0.5), EMLEARN_GEN_F64(0xbff0000000000000ull, -1.0),
    EMLEARN_GEN_F64(0x4000000000000000ull, 2.0), EMLEARN_GEN_F64(0x3fd0000000000000ull, 0.25),
    EMLEARN_GEN_F64(0xbfe8000000000000ull, -0.75), EMLEARN_GEN_F64(0x3ff8000000000000ull, 1.5)};
static const eg::real64 demo_mlp64_biases[5] EMLEARN_GEN_TABLE_ATTR = {
    EMLEARN_GEN_F64(0x3fe0000000000000ull, 0.5), EMLEARN_GEN_F64(0xbff0000000000000ull, -1.0),
    EMLEARN_GEN_F64(0x4000000000000000ull, 2.0), EMLEARN_GEN_F64(0x3fd0000000000000ull, 0.25),
    EMLEARN_GEN_F64(0xbfe8000000000000ull, -0.75)};
struct demo_mlp64 {
  static constexpr const eg::real64* weights = demo_mlp64_weights;
  static constexpr const int8_t* qweights = demo_mlp_qweights;
  static constexpr const float* scales = demo_mlp_scales;
  static constexpr const eg::real64* biases = demo_mlp64_biases;
  static constexpr const uint32_t* sizes = demo_mlp_sizes;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_layers = 2u;
  static constexpr uint32_t n_outputs = 2u;
  static constexpr uint32_t max_width = 3u;
  static constexpr uint8_t hidden_activation = eg::dense_activation::tanh;
  static constexpr uint8_t output_activation = eg::dense_activation::softmax;
  static constexpr uint8_t weight_type = eg::mlp_weights::float64;
};

float demo_mlp64_predict(const float* x) {
  eg::real64 a[3], b[3];
  float out[2];
  int32_t labels[2];
  if (eg::mlp_validate(demo_mlp64(), 12u, 12u, 2u, 5u, 3u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::mlp_label(demo_mlp64(), x, a, b);
  eg::mlp_indicator(demo_mlp64(), x, a, b, labels);
  eg::mlp_proba(demo_mlp64(), x, a, b, out);
  eg::mlp_predict(demo_mlp64(), x, a, b, out);
  return out[0] + static_cast<float>(label + labels[1]);
}

struct demo_svm64 {
  static constexpr const eg::real64* support_vectors = demo_mlp64_weights;
  static constexpr const eg::real64* dual_coef = demo_mlp64_weights;
  static constexpr const eg::real64* intercepts = demo_mlp64_biases;
  static constexpr const uint32_t* class_start = demo_class_start;
  static constexpr const eg::real64* params = demo_mlp64_biases;
  static constexpr const eg::real64* prob_a = demo_mlp64_biases;
  static constexpr const eg::real64* prob_b = demo_mlp64_weights;
  static constexpr uint32_t n_features = 2u;
  static constexpr uint32_t n_sv = 3u;
  static constexpr uint32_t n_classes = 3u;
  static constexpr uint32_t degree = 3u;
  static constexpr uint8_t kernel = eg::svm_kernel::sigmoid;
  static constexpr uint8_t ovr = 1u;
  static constexpr uint8_t break_ties = 1u;
  static constexpr uint8_t has_proba = 1u;
  static constexpr uint8_t real_bits = 64u;
};

float demo_svm64_predict(const float* x) {
  eg::real64 dec[3];
  eg::real64 coupling[15];
  float out[3];
  if (eg::svm_validate(demo_svm64(), 6u, 6u, 3u, 4u, 3u, 3u, 3u) != eg::status::ok) {
    return -1.0f;
  }
  const int32_t label = eg::svm_label(demo_svm64(), x, dec);
  eg::svm_proba(demo_svm64(), dec, coupling, out);
  eg::svm_decision_function(demo_svm64(), dec, out);
  return out[0] + static_cast<float>(label) + eg::svm_value(demo_svm64(), x) + eg::svm_score(demo_svm64(), x) +
         static_cast<float>(eg::svm_outlier(demo_svm64(), x));
}

// The math functions, which are not templates but only generate code when used.
float demo_math(float* v, uint32_t n) {
  eg::softmax_f(v, n);
  eg::normalize_sum_f(v, n);
  return eg::exp_f(v[0]) + eg::sigmoid_f(v[0]) + eg::rounded(v[0] * v[0]) + eg::log_f(v[0]) +
         eg::sqrt_f(v[0]) + eg::tanh_f(v[0]) + eg::logsumexp_f(v, n);
}

// The spectral kernels (not templates), on tables in flash.
static const float spectrum_twiddles[24] EMLEARN_GEN_TABLE_ATTR = {1.0f};
static const float spectrum_window[12] EMLEARN_GEN_TABLE_ATTR = {1.0f};
static const uint16_t spectrum_first[1] EMLEARN_GEN_TABLE_ATTR = {0};
static const uint16_t spectrum_offsets[2] EMLEARN_GEN_TABLE_ATTR = {0, 1};
static const float spectrum_weights[1] EMLEARN_GEN_TABLE_ATTR = {1.0f};
static const float spectrum_dct[1] EMLEARN_GEN_TABLE_ATTR = {1.0f};
float demo_spectrum(const float* x, float* out, float* scratch) {
  const eg::filterbank fb = {spectrum_first, spectrum_offsets, spectrum_weights, 1u, 7u};
  float mel[1];
  float mfcc[1];
  if (eg::rfft(x, 12u, spectrum_window, spectrum_twiddles, out, scratch) != eg::status::ok ||
      eg::spectrum(x, 12u, nullptr, spectrum_twiddles, eg::spectrum_kind::log_power, 1e-10f, out, scratch) !=
          eg::status::ok ||
      eg::filterbank_validate(fb, 1u) != eg::status::ok) {
    return -1.0f;
  }
  eg::filterbank_energies(fb, out, true, 1e-10f, mel);
  eg::matrix_vector(spectrum_dct, mel, 1u, 1u, mfcc);
  return mfcc[0] + eg::spectral_centroid(out, 7u, 1.0f) + eg::dominant_frequency(out, 7u, 1.0f);
}

// binary64 arithmetic and exp_r64 on real64 (soft_double where double has
// 32 bits), and on soft_double everywhere.
template eg::real64 eg::exp_r64<eg::real64>(eg::real64);
eg::real64 demo_real64(eg::real64 a, eg::real64 b) {
  return eg::exp_r64(eg::divide(eg::add(eg::subtract(eg::multiply(a, b), eg::negate(b)), a), b));
}
float demo_soft_double(eg::soft_double a, eg::soft_double b) {
  return eg::to_float(eg::exp_r64(eg::divide(eg::subtract(eg::multiply(a, b), eg::negate(b)), a)));
}
float demo_real64_functions(eg::real64* v, uint32_t n, float x) {
  eg::softmax_r64(v, n);
  return eg::to_float(eg::add(eg::tanh_r64(v[0]), eg::sigmoid_r64(eg::widen<eg::real64>(x))));
}
float demo_soft_double_functions(eg::soft_double* v, uint32_t n, float x) {
  eg::softmax_r64(v, n);
  return eg::to_float(eg::add(eg::tanh_r64(v[0]), eg::sigmoid_r64(eg::widen<eg::soft_double>(x))));
}

// Streaming filters over coefficient tables in flash, and the
// post-processing objects over caller memory.
template eg::status eg::sos_validate<eg::sos_filter>(const eg::sos_filter&, size_t);
template void eg::sos_reset<eg::sos_filter>(const eg::sos_filter&, float*);
template void eg::sos_steady_state<eg::sos_filter>(const eg::sos_filter&, const float*, const float*, float*);
template eg::status eg::sos_filter_block<eg::sos_filter>(const eg::sos_filter&, float*, const float*, float*,
                                                         uint32_t);
template eg::status eg::fir_validate<eg::fir_filter>(const eg::fir_filter&, size_t);
template void eg::fir_reset<eg::fir_filter>(const eg::fir_filter&, eg::fir_state*);
template eg::status eg::fir_filter_block<eg::fir_filter>(const eg::fir_filter&, eg::fir_state*, const float*,
                                                         uint32_t, float*, uint32_t*);
static const float demo_sos[6] EMLEARN_GEN_TABLE_ATTR = {0.5f, 0.25f, 0.125f, 1.0f, -0.5f, 0.25f};
static const float demo_zi[2] EMLEARN_GEN_TABLE_ATTR = {0.5f, 0.25f};
static const float demo_taps[3] EMLEARN_GEN_TABLE_ATTR = {0.25f, 0.5f, 0.25f};
float demo_filters(float* x, uint32_t n) {
  const eg::sos_filter sos = {demo_sos, 1u, 1u};
  float state[eg::sos_state_floats(1u, 1u)];
  if (eg::sos_validate(sos, 6u) != eg::status::ok) {
    return -1.0f;
  }
  eg::sos_steady_state(sos, demo_zi, x, state);
  eg::sos_filter_block(sos, state, x, x, n);
  const eg::fir_filter fir = {demo_taps, 3u, 1u, 2u};
  float history[eg::fir_history_floats(3u, 1u)];
  eg::fir_state s = {history, 0u, 0u};
  eg::fir_reset(fir, &s);
  uint32_t kept = 0u;
  eg::fir_filter_block(fir, &s, x, n, x, &kept);
  return x[0] + static_cast<float>(kept + eg::fir_output_count(2u, s.phase, n));
}
float demo_postprocess(const float* p, int32_t label) {
  float ring[eg::moving_average_bytes(4u, 2u) / sizeof(float)];
  float out[2];
  eg::moving_average average;
  if (eg::moving_average_init(&average, ring, sizeof ring, 4u, 2u) != eg::status::ok) {
    return -1.0f;
  }
  eg::moving_average_update(&average, p, out);
  eg::moving_average_reset(&average);
  float value[2];
  eg::exponential_smoothing smooth;
  eg::exponential_smoothing_init(&smooth, value, sizeof value, 2u, 0.5f);
  eg::exponential_smoothing_update(&smooth, p, out);
  eg::exponential_smoothing_reset(&smooth);
  int32_t labels[3];
  eg::majority_vote vote;
  eg::majority_vote_init(&vote, labels, sizeof labels, 3u);
  const int32_t voted = eg::majority_vote_update(&vote, label);
  eg::majority_vote_reset(&vote);
  eg::hysteresis switch_;
  eg::hysteresis_init(&switch_, 0.25f, 0.75f);
  const bool on = eg::hysteresis_update(&switch_, p[0]);
  eg::hysteresis_reset(&switch_);
  uint8_t events[5];
  eg::n_of_m detector;
  eg::n_of_m_init(&detector, events, sizeof events, 2u, 5u);
  const bool event = eg::n_of_m_update(&detector, on);
  eg::n_of_m_reset(&detector);
  return out[0] + static_cast<float>(voted) + (event ? 1.0f : 0.0f);
}
"""
KERNEL_HEADERS = (
    "common.hpp", "float64.hpp", "tree_ensemble.hpp", "math.hpp", "linear.hpp", "dense.hpp", "mlp.hpp",
    "naive_bayes.hpp", "svm.hpp", "distance.hpp", "neighbors.hpp", "mixture.hpp", "clusters.hpp",
    "transforms.hpp", "fft.hpp", "spectrum.hpp", "filters.hpp", "postprocess.hpp",
    "window_stats.hpp",
)


def _missing(message: str) -> None:
    """Skips, or fails when EMLEARN_GEN_REQUIRE_DEVICE=1 asks for every tool."""
    if REQUIRE_TOOLS:
        pytest.fail(f"{message} (EMLEARN_GEN_REQUIRE_DEVICE=1)")
    pytest.skip(message)


def _require_compiler(compiler: str, package: str) -> str:
    path = shutil.which(compiler)
    if path is None:
        _missing(f"{compiler} not found: install the Debian package(s) {package}")
    return str(path)


def _compile(compiler: str, flags: Sequence[str], source: Path) -> Tuple[bool, str]:
    cmd = [compiler, *flags, f"-I{INCLUDE_DIR}", str(source)]
    result = subprocess.run(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S
    )
    return result.returncode == 0, " ".join(cmd) + "\n" + result.stdout


def _write_sources(folder: Path) -> List[Path]:
    """One file per header that includes only it, one that includes all twice,
    and one that instantiates every kernel template."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = []
    for header in HEADERS:
        src = folder / f"only_{header.stem}.cpp"
        src.write_text(f'#include "emlearn_gen/{header.name}"\n')
        sources.append(src)
    includes = "".join(f'#include "emlearn_gen/{h.name}"\n' for h in HEADERS)
    twice = folder / "all_headers_twice.cpp"
    twice.write_text(includes + includes)
    sources.append(twice)
    sources.append(_write_instantiations(folder))
    return sources


def _write_instantiations(folder: Path) -> Path:
    src = folder / "kernel_instantiations.cpp"
    includes = "".join(f'#include "emlearn_gen/{name}"\n' for name in KERNEL_HEADERS)
    src.write_text(includes + KERNEL_INSTANTIATIONS)
    return src


def _compile_all(compiler: str, flags: Sequence[str], sources: Sequence[Path]) -> List[str]:
    failures = []
    for src in sources:
        ok, log = _compile(compiler, flags, src)
        if not ok:
            failures.append(log)
    return failures


def test_runtime_headers_exist() -> None:
    names = {h.name for h in HEADERS}
    assert {"common.hpp", "tree_ensemble.hpp"} <= names, names
    for name in KERNEL_HEADERS:
        assert (HEADER_DIR / name).is_file(), name


@pytest.mark.parametrize("std", STANDARDS)
@pytest.mark.parametrize("compiler", sorted(HOST_COMPILERS))
def test_headers_compile_warning_free(compiler: str, std: str, tmp_path: Path) -> None:
    cxx = _require_compiler(compiler, HOST_COMPILERS[compiler])
    sources = _write_sources(tmp_path)
    failures = _compile_all(cxx, [f"-std={std}", *STRICT_FLAGS, "-fsyntax-only"], sources)
    # Code generation too: some warnings only come with the optimiser.
    obj = tmp_path / "kernels.o"
    ok, log = _compile(
        cxx, [f"-std={std}", *STRICT_FLAGS, "-O2", "-c", "-o", str(obj)], sources[-1]
    )
    if not ok:
        failures.append(log)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("compiler", sorted(HOST_COMPILERS))
def test_headers_need_no_cxx_standard_library(compiler: str, tmp_path: Path) -> None:
    """With the C++ library's include paths removed, <cstdint> & co. are gone:
    the runtime still compiles, as it must for avr-g++."""
    cxx = _require_compiler(compiler, HOST_COMPILERS[compiler])
    probe = tmp_path / "probe.cpp"
    probe.write_text("#include <cstdint>\n")
    ok, _ = _compile(cxx, ["-nostdinc++", "-fsyntax-only"], probe)
    assert not ok, "-nostdinc++ did not hide the C++ standard library; the check would prove nothing"
    sources = _write_sources(tmp_path / "src")
    failures = _compile_all(cxx, ["-std=c++11", "-nostdinc++", *STRICT_FLAGS, "-fsyntax-only"], sources)
    assert not failures, "\n\n".join(failures)


def _conditional_frames(lines: Sequence[str]) -> List[Tuple[int, str, List[str]]]:
    """(line number, included name, enclosing active conditions) of every
    #include; a condition is the text of #if/#ifdef/#ifndef, prefixed with
    '!' inside its #else/#elif branch."""
    out: List[Tuple[int, str, List[str]]] = []
    stack: List[str] = []
    for number, line in enumerate(lines, start=1):
        m = re.match(r"^\s*#\s*(\w+)\s*(.*?)\s*(//.*)?$", line)
        if not m:
            continue
        directive, rest = m.group(1), m.group(2)
        if directive == "if":
            stack.append(rest.replace(" ", ""))
        elif directive == "ifdef":
            stack.append(f"defined({rest})")
        elif directive == "ifndef":
            stack.append(f"!defined({rest})")
        elif directive in ("else", "elif"):
            if not stack:
                raise AssertionError(f"line {number}: #{directive} without #if")
            stack[-1] = "!" + stack[-1]
        elif directive == "endif":
            if not stack:
                raise AssertionError(f"line {number}: #endif without #if")
            stack.pop()
        elif directive == "include":
            out.append((number, rest, list(stack)))
    return out


def _logical_lines(text: str) -> List[str]:
    """Source lines with block comments blanked, keeping line numbers."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return text.splitlines()


def _include_problems(header: Path) -> List[str]:
    problems = []
    siblings = {h.name for h in HEADERS}
    lines = _logical_lines(header.read_text())
    if any(line.rstrip().endswith("\\") and "include" in line for line in lines):
        problems.append("an #include line is continued with a backslash")
    for number, target, conditions in _conditional_frames(lines):
        where = f"{header.name}:{number}: #include {target}"
        angle = re.fullmatch(r"<([^>]+)>", target)
        quoted = re.fullmatch(r'"([^"]+)"', target)
        if angle:
            name = angle.group(1)
            if name in ALLOWED_C_HEADERS:
                continue
            if name in AVR_ONLY_HEADERS:
                if "defined(__AVR__)" not in conditions:
                    problems.append(f"{where} outside an #if defined(__AVR__) block")
                continue
            problems.append(f"{where}: not one of the allowed C headers")
        elif quoted:
            if quoted.group(1) not in siblings:
                problems.append(f"{where}: only sibling runtime headers may be included by quote")
        else:
            problems.append(f"{where}: computed includes are not allowed")
    return problems


@pytest.mark.parametrize("header", HEADERS, ids=[h.name for h in HEADERS])
def test_header_includes_only_c_headers(header: Path) -> None:
    problems = _include_problems(header)
    assert not problems, "\n".join(problems)


def test_include_checker_rejects_bad_includes(tmp_path: Path) -> None:
    """The checker above must itself be able to fail."""
    bad = tmp_path / "bad.hpp"
    bad.write_text(
        "#include <cstdint>\n"
        "#include <avr/pgmspace.h>\n"
        "#if defined(__AVR__)\n#else\n#include <avr/pgmspace.h>\n#endif\n"
        '#include "elsewhere.hpp"\n'
        "#define H <stdio.h>\n#include H\n"
        "/* #include <vector> is fine inside a comment */\n"
        "#if defined(__AVR__)\n#include <avr/pgmspace.h>\n#endif\n"
    )
    problems = _include_problems(bad)
    assert len(problems) == 5, problems
    assert "cstdint" in problems[0]
    assert "outside" in problems[1] and "outside" in problems[2]
    assert "elsewhere.hpp" in problems[3]
    assert "computed" in problems[4]


def _avr_compiler() -> str:
    return _require_compiler("avr-g++", AVR_PACKAGES)


def _require_avr_libc(cxx: str, tmp_path: Path) -> None:
    probe = tmp_path / "avr_libc_probe.cpp"
    probe.write_text("#include <avr/pgmspace.h>\n")
    ok, log = _compile(cxx, [*AVR_FLAGS, "-fsyntax-only"], probe)
    if not ok:
        _missing(f"avr-g++ cannot find <avr/pgmspace.h>: install the Debian package avr-libc\n{log}")


def test_avr_accepts_each_header(tmp_path: Path) -> None:
    cxx = _avr_compiler()
    _require_avr_libc(cxx, tmp_path)
    sources = _write_sources(tmp_path / "src")
    failures = _compile_all(cxx, [*AVR_FLAGS, *STRICT_FLAGS, "-fsyntax-only"], sources)
    # avr-g++ 5 does not instantiate templates under -fsyntax-only, so compile
    # the kernel instantiations to an object as well (16-bit int, 32-bit double).
    obj = tmp_path / "kernels_avr.o"
    ok, log = _compile(cxx, [*AVR_FLAGS, *STRICT_FLAGS, "-c", "-o", str(obj)], sources[-1])
    if not ok:
        failures.append(log)
    assert not failures, "\n\n".join(failures)


def test_avr_instantiation_check_sees_template_bodies(tmp_path: Path) -> None:
    """The object compile above really looks inside templates on AVR: a
    warning that only an instantiated body can raise must be reported."""
    cxx = _avr_compiler()
    _require_avr_libc(cxx, tmp_path)
    src = tmp_path / "promotion.cpp"
    src.write_text(
        "template <typename T> double scaled(T x) { return x * 1.0; }\n"
        "template double scaled<float>(float);\n"
    )
    ok, log = _compile(cxx, [*AVR_FLAGS, *STRICT_FLAGS, "-c", "-o", str(tmp_path / "p.o")], src)
    assert not ok and "double-promotion" in log, log


def _fast_math_targets() -> List[Tuple[str, str, List[str]]]:
    targets = [(c, p, []) for c, p in sorted(HOST_COMPILERS.items())]
    targets.append(("avr-g++", AVR_PACKAGES, AVR_FLAGS))
    return targets


@pytest.mark.parametrize(
    "compiler,package,extra", _fast_math_targets(), ids=[t[0] for t in _fast_math_targets()]
)
def test_fast_math_is_rejected(compiler: str, package: str, extra: List[str], tmp_path: Path) -> None:
    cxx = _require_compiler(compiler, package)
    if compiler == "avr-g++":
        _require_avr_libc(cxx, tmp_path)
    failures = []
    for header in HEADERS:
        src = tmp_path / f"fast_math_{header.stem}.cpp"
        src.write_text(f'#include "emlearn_gen/{header.name}"\n')
        ok, log = _compile(cxx, [*extra, "-fsyntax-only"], src)
        if not ok:
            failures.append(f"{header.name} does not compile even without -ffast-math:\n{log}")
            continue
        ok, log = _compile(cxx, [*extra, "-ffast-math", "-fsyntax-only"], src)
        if ok:
            failures.append(f"{header.name} compiles with -ffast-math")
        elif FAST_MATH_ERROR not in log:
            failures.append(f"{header.name} fails with -ffast-math, but not with the runtime's #error:\n{log}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("compiler", sorted(HOST_COMPILERS))
def test_finite_math_only_is_rejected(compiler: str, tmp_path: Path) -> None:
    cxx = _require_compiler(compiler, HOST_COMPILERS[compiler])
    src = tmp_path / "finite_math.cpp"
    src.write_text('#include "emlearn_gen/tree_ensemble.hpp"\n')
    ok, log = _compile(cxx, ["-ffinite-math-only", "-fsyntax-only"], src)
    assert not ok and FAST_MATH_ERROR in log, log
    if compiler == "g++":  # clang does not name these options in macros
        for flag in ("-freciprocal-math", "-fassociative-math"):
            ok, log = _compile(cxx, [flag, "-fno-signed-zeros", "-fno-trapping-math", "-fsyntax-only"], src)
            assert not ok and FAST_MATH_ERROR in log, (flag, log)

