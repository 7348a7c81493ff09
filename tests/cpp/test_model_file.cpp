// Tests of model_file.hpp and loader.hpp on model files made here (the
// writer below follows docs/model-file.md): loading, running bit-equal to the
// kernels on the same tables, every refusal with its status, and a
// deterministic mutation test (every bit flipped, every truncation, size and
// count fields at their extremes) in which each mutant is refused with a
// status or loads and runs to the end; under the ASan build (option
// EMLEARN_GEN_TESTS_SANITIZE) no mutant reads outside its buffer.
#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <cmath>
#include <vector>

#include "emlearn_gen/loader.hpp"

namespace {

namespace eg = emlearn_gen;
using eg::status;

void put_u32(std::vector<uint8_t>& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

void append_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.resize(out.size() + 4u);
  put_u32(out, out.size() - 4u, v);
}

struct Entry {
  eg::entry_id id;
  eg::output_kind kind;
  uint8_t flags;
  uint32_t width;
};

// A model file as the Python writer lays it out.
struct FileBuilder {
  eg::model_family family;
  eg::real_type real;
  uint16_t format;
  uint32_t n_features;
  std::vector<Entry> entries;
  std::vector<uint32_t> fields;
  std::vector<std::pair<eg::element_type, std::vector<uint8_t>>> tables;
  std::vector<uint8_t> metadata;

  void add_floats(const std::vector<float>& values) {
    std::vector<uint8_t> bytes(values.size() * 4u);
    if (!values.empty()) memcpy(bytes.data(), values.data(), bytes.size());
    tables.push_back(std::make_pair(eg::element_type::f32, bytes));
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out(eg::model_file_header_bytes, 0u);
    for (const Entry& e : entries) {
      out.push_back(static_cast<uint8_t>(e.id));
      out.push_back(static_cast<uint8_t>(e.kind));
      out.push_back(e.flags);
      out.push_back(0u);
      append_u32(out, e.width);
    }
    for (uint32_t f : fields) append_u32(out, f);
    const size_t directory = out.size();
    out.resize(out.size() + tables.size() * eg::model_file_table_bytes, 0u);
    for (size_t i = 0; i < tables.size(); ++i) {
      while (out.size() % 8u) out.push_back(0u);
      const size_t at = directory + i * eg::model_file_table_bytes;
      out[at] = static_cast<uint8_t>(tables[i].first);
      put_u32(out, at + 4u, static_cast<uint32_t>(out.size()));
      put_u32(out, at + 8u, static_cast<uint32_t>(tables[i].second.size() / eg::element_bytes(
                                static_cast<uint8_t>(tables[i].first))));
      out.insert(out.end(), tables[i].second.begin(), tables[i].second.end());
    }
    while (out.size() % 8u) out.push_back(0u);
    const uint32_t metadata_at = static_cast<uint32_t>(out.size());
    out.insert(out.end(), metadata.begin(), metadata.end());
    while (out.size() % 4u) out.push_back(0u);
    const uint32_t total = static_cast<uint32_t>(out.size() + 4u);
    memcpy(out.data(), eg::model_file_magic, 4u);
    out[4] = EMLEARN_GEN_MODEL_FILE_VERSION;
    out[6] = static_cast<uint8_t>(family);
    out[7] = static_cast<uint8_t>(real);
    out[8] = static_cast<uint8_t>(format);
    out[9] = static_cast<uint8_t>(format >> 8);
    out[10] = static_cast<uint8_t>(entries.size());
    out[11] = static_cast<uint8_t>(fields.size());
    out[12] = static_cast<uint8_t>(tables.size());
    put_u32(out, 16u, n_features);
    put_u32(out, 20u, total);
    put_u32(out, 24u, metadata_at);
    put_u32(out, 28u, static_cast<uint32_t>(metadata.size()));
    append_u32(out, 0u);
    recrc(out);
    return out;
  }

  static void recrc(std::vector<uint8_t>& out) {
    const uint32_t body = static_cast<uint32_t>(out.size() - 4u);
    put_u32(out, body, eg::crc32(out.data(), body));
  }
};

// The file copied into 8-byte aligned memory, as the loader wants it.
struct Aligned {
  explicit Aligned(const std::vector<uint8_t>& bytes) : words((bytes.size() + 7u) / 8u + 1u, 0u), size(bytes.size()) {
    if (!bytes.empty()) memcpy(words.data(), bytes.data(), bytes.size());
  }
  const void* data() const { return words.data(); }
  std::vector<uint64_t> words;
  size_t size;
};

// k-means with 3 centres of 2 features.
const std::vector<float> kCenters = {0.0f, 0.0f, 1.5f, -2.0f, -3.25f, 4.0f};

FileBuilder clusters_file() {
  FileBuilder b{eg::model_family::clusters, eg::real_type::float32, EMLEARN_GEN_CLUSTERS_FORMAT, 2u, {}, {}, {}, {}};
  b.entries = {{eg::entry_id::predict, eg::output_kind::label, 0u, 1u},
               {eg::entry_id::transform, eg::output_kind::values, 0u, 3u},
               {eg::entry_id::nearest_sq_distance, eg::output_kind::values, 0u, 1u}};
  b.fields = {2u, 3u};  // n_features, n_clusters
  b.add_floats(kCenters);
  const char meta[] = "{\"family\":\"clusters\"}";
  b.metadata.assign(meta, meta + sizeof meta - 1u);
  return b;
}

// A three-class logistic regression of 2 features, with predict_log_proba
// taken as log_f of predict_proba.
const std::vector<float> kWeights = {0.5f, -1.25f, 2.0f, 0.75f, -0.125f, 1.0f};
const std::vector<float> kIntercepts = {0.1f, -0.2f, 0.3f};

FileBuilder linear_file() {
  FileBuilder b{eg::model_family::linear, eg::real_type::float32, EMLEARN_GEN_LINEAR_FORMAT, 2u, {}, {}, {}, {}};
  b.entries = {{eg::entry_id::predict, eg::output_kind::label, 0u, 1u},
               {eg::entry_id::decision_function, eg::output_kind::values, 0u, 3u},
               {eg::entry_id::predict_proba, eg::output_kind::values, 0u, 3u},
               {eg::entry_id::predict_log_proba, eg::output_kind::values, eg::entry_flag_log_of_proba, 3u}};
  b.fields = {2u, 3u, eg::linear_link::softmax};  // n_features, n_scores, link
  b.add_floats(kWeights);
  b.add_floats(kIntercepts);
  return b;
}

status load(const std::vector<uint8_t>& bytes, eg::loaded_model* out) {
  const Aligned a(bytes);
  return eg::model_load(a.data(), a.size, out);
}

bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

const float kRows[][2] = {{0.0f, 0.0f}, {1.0f, -1.0f}, {-3.0f, 3.5f}, {NAN, 1.0f}, {1e30f, -1e30f}, {0.75f, 2.0f}};

TEST(ModelFile, Crc32IsZlibs) {
  const char text[] = "123456789";
  EXPECT_EQ(eg::crc32(text, 9u), 0xCBF43926u);
  EXPECT_EQ(eg::crc32(text, 0u), 0u);
  // Continued over two pieces, as over one.
  EXPECT_EQ(eg::crc32(text + 4, 5u, eg::crc32(text, 4u)), 0xCBF43926u);
}

TEST(ModelFile, ClustersRunBitEqualToTheKernels) {
  const std::vector<uint8_t> bytes = clusters_file().build();
  const Aligned a(bytes);
  eg::loaded_model m;
  ASSERT_EQ(eg::model_load(a.data(), a.size, &m), status::ok);
  EXPECT_EQ(m.file.problem, eg::file_problem::none);
  EXPECT_EQ(m.file.metadata_size, 21u);  // {"family":"clusters"}
  const eg::clusters_model direct = {kCenters.data(), 2u, 3u};
  EXPECT_EQ(eg::model_scratch_bytes(m, eg::entry_id::predict), 0u);
  EXPECT_EQ(eg::model_scratch_bytes(m, eg::entry_id::predict_proba), 0u);  // none: not in the file
  for (const auto& x : kRows) {
    int32_t label = -7;
    ASSERT_EQ(eg::model_run(m, eg::entry_id::predict, x, NULL, &label, NULL, 0u), status::ok);
    EXPECT_EQ(label, eg::clusters_label(direct, x));
    float out[3], want[3];
    ASSERT_EQ(eg::model_run(m, eg::entry_id::transform, x, out, NULL, NULL, 0u), status::ok);
    eg::clusters_transform(direct, x, want);
    for (int k = 0; k < 3; ++k) EXPECT_TRUE(same_bits(out[k], want[k]));
    ASSERT_EQ(eg::model_run(m, eg::entry_id::nearest_sq_distance, x, out, NULL, NULL, 0u), status::ok);
    EXPECT_TRUE(same_bits(out[0], eg::clusters_nearest_sq_distance(direct, x)));
  }
  float out[3];
  int32_t label = 0;
  EXPECT_EQ(eg::model_run(m, eg::entry_id::predict_proba, kRows[0], out, NULL, NULL, 0u), status::unsupported);
  EXPECT_EQ(eg::model_run(m, eg::entry_id::predict, kRows[0], NULL, NULL, NULL, 0u), status::bad_argument);
  EXPECT_EQ(eg::model_run(m, eg::entry_id::transform, NULL, out, &label, NULL, 0u), status::bad_argument);
}

TEST(ModelFile, LinearRunsBitEqualWithScratchAndLogProba) {
  const std::vector<uint8_t> bytes = linear_file().build();
  const Aligned a(bytes);
  eg::loaded_model m;
  ASSERT_EQ(eg::model_load(a.data(), a.size, &m), status::ok);
  const eg::linear_model direct = {kWeights.data(), kIntercepts.data(), 2u, 3u, eg::linear_link::softmax};
  // The label keeps the 3 scores, as the header's float scores[3].
  const size_t need = eg::model_scratch_bytes(m, eg::entry_id::predict);
  EXPECT_EQ(need, 3u * sizeof(float));
  alignas(8) uint8_t scratch[64];
  for (const auto& x : kRows) {
    int32_t label = -1;
    float scores[3];
    ASSERT_EQ(eg::model_run(m, eg::entry_id::predict, x, NULL, &label, scratch, need), status::ok);
    EXPECT_EQ(label, eg::linear_label(direct, x, scores));
    float out[3], want[3];
    ASSERT_EQ(eg::model_run(m, eg::entry_id::decision_function, x, out, NULL, NULL, 0u), status::ok);
    eg::linear_scores(direct, x, want);
    for (int k = 0; k < 3; ++k) EXPECT_TRUE(same_bits(out[k], want[k]));
    ASSERT_EQ(eg::model_run(m, eg::entry_id::predict_proba, x, out, NULL, NULL, 0u), status::ok);
    eg::linear_proba(direct, x, want);
    for (int k = 0; k < 3; ++k) EXPECT_TRUE(same_bits(out[k], want[k]));
    ASSERT_EQ(eg::model_run(m, eg::entry_id::predict_log_proba, x, out, NULL, NULL, 0u), status::ok);
    for (int k = 0; k < 3; ++k) EXPECT_TRUE(same_bits(out[k], eg::log_f(want[k])));
  }
  int32_t label = 0;
  EXPECT_EQ(eg::model_run(m, eg::entry_id::predict, kRows[0], NULL, &label, scratch, need - 1u),
            status::size_mismatch);
  EXPECT_EQ(eg::model_run(m, eg::entry_id::predict, kRows[0], NULL, &label, NULL, 0u), status::size_mismatch);
}

// A refusal: the status and the check that failed.
void expect_refused(const std::vector<uint8_t>& bytes, status want, eg::file_problem why) {
  eg::loaded_model m;
  EXPECT_EQ(load(bytes, &m), want);
  EXPECT_EQ(m.file.problem, why);
}

TEST(ModelFile, DamagedFilesAreRefusedWithTheirStatus) {
  const std::vector<uint8_t> good = clusters_file().build();
  std::vector<uint8_t> bad = good;
  bad[0] = 'X';
  FileBuilder::recrc(bad);
  expect_refused(bad, status::bad_file, eg::file_problem::bad_magic);

  bad = good;
  bad[4] = 2u;  // file format version 2
  FileBuilder::recrc(bad);
  expect_refused(bad, status::unsupported, eg::file_problem::bad_version);

  bad = good;
  bad[good.size() - 1u] ^= 0x80u;
  expect_refused(bad, status::bad_file, eg::file_problem::bad_crc);
  bad = good;
  bad[good.size() - 20u] ^= 0x01u;  // a metadata byte
  expect_refused(bad, status::bad_file, eg::file_problem::bad_crc);

  for (size_t cut = 0; cut < good.size(); ++cut) {
    eg::loaded_model m;
    const std::vector<uint8_t> part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_EQ(load(part, &m), status::bad_file) << cut;
  }
  expect_refused(std::vector<uint8_t>(good.begin(), good.end() - 4), status::bad_file, eg::file_problem::truncated);

  // The centres' table reaching past the end of the file.
  bad = good;
  const size_t directory = eg::model_file_header_bytes + 3u * eg::model_file_entry_bytes + 2u * 4u;
  put_u32(bad, directory + 8u, 0x40000000u);
  FileBuilder::recrc(bad);
  expect_refused(bad, status::bad_file, eg::file_problem::table_outside);
  // Or starting beyond it (an offset whose sum with the size wraps in 32 bits).
  bad = good;
  put_u32(bad, directory + 4u, 0xFFFFFFF8u);
  FileBuilder::recrc(bad);
  expect_refused(bad, status::bad_file, eg::file_problem::table_outside);

  FileBuilder b = clusters_file();
  b.fields[1] = 4u;  // 4 clusters, but 3 centres in the table
  expect_refused(b.build(), status::size_mismatch, eg::file_problem::bad_tables);
  b = clusters_file();
  b.family = static_cast<eg::model_family>(77);
  expect_refused(b.build(), status::unsupported, eg::file_problem::bad_family);
  b = clusters_file();
  b.format = EMLEARN_GEN_CLUSTERS_FORMAT + 1;
  expect_refused(b.build(), status::unsupported, eg::file_problem::bad_format);
  b = clusters_file();
  b.tables[0].first = eg::element_type::u32;  // centres of the wrong element type
  expect_refused(b.build(), status::bad_file, eg::file_problem::bad_layout);
  b = clusters_file();
  b.fields.push_back(0u);  // a field the layout does not have
  expect_refused(b.build(), status::bad_file, eg::file_problem::bad_layout);
  b = clusters_file();
  b.entries.push_back({eg::entry_id::predict_proba, eg::output_kind::values, 0u, 3u});  // k-means has none
  expect_refused(b.build(), status::bad_file, eg::file_problem::bad_entry);
  b = clusters_file();
  b.entries[1].width = 4u;  // transform writes 3 distances
  expect_refused(b.build(), status::bad_file, eg::file_problem::bad_entry);
  b = clusters_file();
  b.n_features = 3u;
  expect_refused(b.build(), status::bad_file, eg::file_problem::bad_features);

  // A buffer that is not 8-byte aligned: the tables are read in place.
  Aligned a(good);
  std::vector<uint64_t> shifted(a.words.size() + 1u, 0u);
  memcpy(reinterpret_cast<uint8_t*>(shifted.data()) + 4, good.data(), good.size());
  eg::loaded_model m;
  EXPECT_EQ(eg::model_load(reinterpret_cast<uint8_t*>(shifted.data()) + 4, good.size(), &m), status::bad_argument);
  EXPECT_EQ(m.file.problem, eg::file_problem::misaligned);
  EXPECT_EQ(eg::model_load(NULL, 100u, &m), status::bad_argument);
  EXPECT_EQ(eg::model_load(a.data(), a.size, NULL), status::bad_argument);
  // A longer buffer (a flash partition) holding the file loads.
  std::vector<uint8_t> longer = good;
  longer.resize(good.size() + 64u, 0xFFu);
  EXPECT_EQ(load(longer, &m), status::ok);
}

// Loads a mutant and, if it loads, runs every entry point it lists with the
// scratch it asks for: either way it must end with a status.
void load_and_run(const std::vector<uint8_t>& bytes) {
  const Aligned a(bytes);
  eg::loaded_model m;
  if (eg::model_load(a.data(), a.size, &m) != status::ok) return;
  std::vector<uint64_t> scratch(1024u);
  std::vector<float> values(4096u);
  std::vector<int32_t> ints(4096u);
  for (uint8_t i = 0; i < m.file.n_entries; ++i) {
    const eg::entry_id id = static_cast<eg::entry_id>(m.file.entries[i].id);
    const size_t need = eg::model_scratch_bytes(m, id);
    if (need > scratch.size() * 8u || m.file.entries[i].width > values.size()) continue;  // too big to try here
    for (const auto& x : kRows) {
      std::vector<float> row(m.file.n_features > 64u ? 0u : m.file.n_features, 0.5f);
      if (row.size() >= 2u) memcpy(row.data(), x, sizeof x);
      if (row.empty()) continue;
      const status s = eg::model_run(m, id, row.data(), values.data(), ints.data(), scratch.data(), need);
      EXPECT_EQ(s, status::ok);
    }
  }
}

// Every mutant of `good`: each bit flipped (CRC recomputed, so the checks
// behind the CRC see it), each truncation, each 32-bit word of the header
// and records at 0, 1, 2^31 - 1 and 2^32 - 1.
void mutate_all(const std::vector<uint8_t>& good) {
  for (size_t byte = 0; byte + 4u < good.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> m = good;
      m[byte] ^= static_cast<uint8_t>(1u << bit);
      FileBuilder::recrc(m);
      load_and_run(m);
    }
  }
  for (size_t cut = 0; cut < good.size(); ++cut) {
    load_and_run(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut)));
  }
  const uint32_t extremes[] = {0u, 1u, 0x7FFFFFFFu, 0xFFFFFFFFu};
  const size_t records_end = eg::model_file_header_bytes + 4u * eg::model_file_entry_bytes + 8u * 4u +
                             2u * eg::model_file_table_bytes;
  for (size_t at = 0; at + 4u <= records_end && at + 4u < good.size(); at += 4u) {
    for (uint32_t v : extremes) {
      std::vector<uint8_t> m = good;
      put_u32(m, at, v);
      FileBuilder::recrc(m);
      load_and_run(m);
    }
  }
}

TEST(ModelFile, EveryMutantIsRefusedOrRunsToTheEnd) {
  mutate_all(clusters_file().build());
  mutate_all(linear_file().build());
}

}  // namespace
