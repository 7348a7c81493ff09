// emlearn-gen runtime: the model file format (docs/model-file.md).
//
// A model file holds one model's packed tables, as a generated header holds
// them, for firmware that receives models at run time (over the air, from a
// filesystem). model_file_parse() checks the file's frame: magic, format
// version, size against the buffer, CRC-32, every record of the header and
// every table's place inside the buffer. It does not look inside the tables:
// the loader (loader.hpp) maps them onto the family's descriptor and the
// family's own <family>_validate checks every index in them.
//
// Header-only, heap-free, exception-free C++11, C headers only. The buffer is
// the caller's and is read in place: the tables of a loaded model point into
// it. On AVR the buffer must be in program memory (PROGMEM), as a generated
// header's tables are: every read here goes through table_copy.
#ifndef EMLEARN_GEN_MODEL_FILE_HPP
#define EMLEARN_GEN_MODEL_FILE_HPP

#include "common.hpp"

/// The file format's version: the byte layout of the frame below. A change
/// to the frame bumps it; a family's table format is carried separately.
#define EMLEARN_GEN_MODEL_FILE_VERSION 1

namespace emlearn_gen {

/// The first four bytes of every model file.
constexpr uint8_t model_file_magic[4] = {'E', 'M', 'L', 'G'};

/// Family ids: the one place these numbers are written (Python reads them
/// through emlearn_gen._runtime.model_file_ids()).
enum class model_family : uint8_t {
  trees = 1,
  linear = 2,
  mlp = 3,
  naive_bayes = 4,
  svm = 5,
  neighbors = 6,
  mixture = 7,
  clusters = 8,
  transforms = 9,
};

/// Element types of tables.
enum class element_type : uint8_t { u8 = 1, i8 = 2, i16 = 3, u32 = 4, f32 = 5, f64 = 6 };

/// The model's arithmetic type (tables of element type "real").
enum class real_type : uint8_t { float32 = 1, float64 = 2 };

/// What an entry point writes (core/entry_points.py).
enum class output_kind : uint8_t { label = 1, outlier = 2, values = 3, indicator = 4 };

/// Entry points by name.
enum class entry_id : uint8_t {
  predict = 1,
  predict_proba = 2,
  predict_log_proba = 3,
  predict_joint_log_proba = 4,
  decision_function = 5,
  score_samples = 6,
  transform = 7,
  nearest_sq_distance = 8,
};
constexpr uint8_t entry_id_count = 8;

/// Entry-point flag: the runtime's log_f of predict_proba's values, which
/// the loader computes (the family's kernel has no such function).
constexpr uint8_t entry_flag_log_of_proba = 1u;

/// Most records a file may have of each kind: a loaded model holds them in
/// fixed arrays. Every family needs fewer.
constexpr uint8_t model_file_max_entries = 12;
constexpr uint8_t model_file_max_fields = 32;
constexpr uint8_t model_file_max_tables = 24;

/// Bytes of the fixed header, of an entry-point record, of a field, of a
/// table record and of the trailing CRC-32.
constexpr uint32_t model_file_header_bytes = 32;
constexpr uint32_t model_file_entry_bytes = 8;
constexpr uint32_t model_file_field_bytes = 4;
constexpr uint32_t model_file_table_bytes = 12;
constexpr uint32_t model_file_crc_bytes = 4;

/// Why a file was refused: the status says what kind of failure, this says
/// which check (hosts turn it into a message; devices may log the number).
enum class file_problem : uint8_t {
  none = 0,
  null_buffer,       ///< no buffer or no output
  misaligned,        ///< the buffer is not 8-byte aligned (tables are read in place)
  too_short,         ///< shorter than the fixed header
  bad_magic,         ///< not a model file
  bad_version,       ///< a file format version this runtime does not read
  truncated,         ///< the buffer is shorter than the size the header states
  bad_size,          ///< the stated size is not a multiple of 4 or cannot hold the records
  bad_crc,           ///< the CRC-32 does not match: the file is corrupt
  bad_counts,        ///< more records than a loaded model holds
  bad_reserved,      ///< a reserved byte is not zero
  bad_entry,         ///< an entry-point record names no entry point or output, or has a bad width
  bad_table_type,    ///< a table record names no element type
  table_outside,     ///< a table lies outside the file, overlaps another or is misaligned
  bad_metadata,      ///< the metadata lies outside the file or overlaps a table
  bad_family,        ///< a family this runtime does not know
  bad_real,          ///< a real type other than float32 or float64
  bad_format,        ///< the family's table format differs from this runtime's
  bad_layout,        ///< the tables or fields do not match the family's layout
  bad_tables,        ///< the family's validate refused the tables
  bad_features,      ///< the header's feature count differs from the model's
};

/// A table as the file's directory places it: `count` elements of `type`
/// starting at `data`, inside the caller's buffer.
struct file_table {
  const void* data;
  uint32_t count;
  uint8_t type;
};

/// An entry point as the file lists it.
struct file_entry {
  uint8_t id;     ///< entry_id
  uint8_t kind;   ///< output_kind
  uint8_t flags;  ///< entry_flag_*
  uint32_t width;
};

/// A parsed file: the header's records, copied out, and the tables, still in
/// the caller's buffer.
struct model_file {
  uint8_t family;
  uint8_t real;
  uint16_t table_format;
  uint32_t n_features;
  uint32_t size;  ///< bytes of the file, CRC included
  uint8_t n_entries;
  uint8_t n_fields;
  uint8_t n_tables;
  file_entry entries[model_file_max_entries];
  uint32_t fields[model_file_max_fields];
  file_table tables[model_file_max_tables];
  const void* metadata;  ///< host-only bytes (JSON); devices ignore them
  uint32_t metadata_size;
  file_problem problem;  ///< why parsing or loading failed; none after success
};

/// Bytes of an element of `type`; 0 for an unknown type.
inline uint32_t element_bytes(uint8_t type) {
  switch (static_cast<element_type>(type)) {
    case element_type::u8:
    case element_type::i8: return 1u;
    case element_type::i16: return 2u;
    case element_type::u32:
    case element_type::f32: return 4u;
    case element_type::f64: return 8u;
  }
  return 0u;
}

/// What `p` means, in words for a person: the host's ValueError and
/// MicroPython's emlearn_gen_rt print it.
inline const char* file_problem_text(file_problem p) {
  switch (p) {
    case file_problem::none: return "no problem";
    case file_problem::null_buffer: return "no data";
    case file_problem::misaligned: return "the buffer is not 8-byte aligned";
    case file_problem::too_short: return "too short to be a model file";
    case file_problem::bad_magic: return "bad magic: this is not an emlearn-gen model file";
    case file_problem::bad_version:
      return "unsupported file format version: the file was written by another emlearn-gen; write it again "
             "with this version";
    case file_problem::truncated: return "truncated: the file is shorter than its header says";
    case file_problem::bad_size: return "bad size: the stated size cannot hold the file's records";
    case file_problem::bad_crc: return "CRC-32 mismatch: the file is corrupt";
    case file_problem::bad_counts: return "more entry points, fields or tables than a model file may have";
    case file_problem::bad_reserved: return "a reserved byte is not zero";
    case file_problem::bad_entry: return "an entry point the model does not have, or of the wrong width";
    case file_problem::bad_table_type: return "a table of unknown element type";
    case file_problem::table_outside: return "a table lies outside the file, overlaps another or is misaligned";
    case file_problem::bad_metadata: return "the metadata lies outside the file";
    case file_problem::bad_family: return "a model family this runtime does not know";
    case file_problem::bad_real: return "a real type other than float32 or float64";
    case file_problem::bad_format:
      return "the family's table format is not this runtime's: write the file again with this emlearn-gen";
    case file_problem::bad_layout: return "the tables or fields do not match the family's layout";
    case file_problem::bad_tables: return "inconsistent model tables (the family's validation refused them)";
    case file_problem::bad_features: return "the header's feature count is not the model's";
  }
  return "unknown problem";
}

namespace detail {

/// Reads `n` bytes at `offset` of the buffer (program memory on AVR).
inline void file_bytes(const void* buffer, uint32_t offset, void* out, uint32_t n) {
  table_copy(out, static_cast<const uint8_t*>(buffer) + offset, n);
}

inline uint32_t file_u32(const void* buffer, uint32_t offset) {
  uint8_t b[4];
  file_bytes(buffer, offset, b, 4u);
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) | (static_cast<uint32_t>(b[2]) << 16) |
         (static_cast<uint32_t>(b[3]) << 24);
}

inline uint16_t file_u16(const void* buffer, uint32_t offset) {
  uint8_t b[2];
  file_bytes(buffer, offset, b, 2u);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

inline uint8_t file_u8(const void* buffer, uint32_t offset) {
  uint8_t b;
  file_bytes(buffer, offset, &b, 1u);
  return b;
}

inline status file_refuse(model_file* out, status s, file_problem why) {
  out->problem = why;
  return s;
}

}  // namespace detail

/// zlib's CRC-32 (reflected polynomial 0xEDB88320) of `n` bytes of the
/// buffer, continuing from `crc` (0 to start). Four bits a step with a
/// 16-entry table: 64 bytes of constants rather than 1 KiB.
inline uint32_t crc32(const void* buffer, uint32_t n, uint32_t crc = 0u) {
  static const uint32_t nibble[16] = {
      0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
      0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
  };
  crc = ~crc;
  uint8_t chunk[32];
  for (uint32_t done = 0; done < n;) {
    const uint32_t take = n - done < sizeof chunk ? n - done : static_cast<uint32_t>(sizeof chunk);
    detail::file_bytes(buffer, done, chunk, take);
    for (uint32_t i = 0; i < take; ++i) {
      crc ^= chunk[i];
      crc = (crc >> 4) ^ nibble[crc & 15u];
      crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    done += take;
  }
  return ~crc;
}

/// Checks the frame of the model file in `buffer` (`size` bytes, 8-byte
/// aligned; it may be longer than the file, as a flash partition is) and
/// fills `out`. Returns status::ok, or bad_argument (no buffer, misaligned),
/// bad_file (not a model file, truncated, corrupt, a record or table out of
/// place) or unsupported (a file format version this runtime does not read);
/// out->problem says which check failed. Reads every byte once (the CRC) and
/// never past min(size, the file's stated size).
inline status model_file_parse(const void* buffer, size_t size, model_file* out) {
  using detail::file_refuse;
  using detail::file_u16;
  using detail::file_u32;
  using detail::file_u8;
  if (out == NULL) return status::bad_argument;
  memset(out, 0, sizeof *out);
  if (buffer == NULL) return file_refuse(out, status::bad_argument, file_problem::null_buffer);
#if !defined(__AVR__)
  if (reinterpret_cast<uintptr_t>(buffer) % 8u != 0u) {
    return file_refuse(out, status::bad_argument, file_problem::misaligned);
  }
#endif
  if (size < model_file_header_bytes + model_file_crc_bytes) {
    return file_refuse(out, status::bad_file, file_problem::too_short);
  }
  uint8_t magic[4];
  detail::file_bytes(buffer, 0u, magic, 4u);
  if (memcmp(magic, model_file_magic, 4u) != 0) return file_refuse(out, status::bad_file, file_problem::bad_magic);
  if (file_u16(buffer, 4u) != EMLEARN_GEN_MODEL_FILE_VERSION) {
    return file_refuse(out, status::unsupported, file_problem::bad_version);
  }
  const uint32_t total = file_u32(buffer, 20u);
  if (total > size) return file_refuse(out, status::bad_file, file_problem::truncated);
  if (total % 4u != 0u || total < model_file_header_bytes + model_file_crc_bytes) {
    return file_refuse(out, status::bad_file, file_problem::bad_size);
  }
  // The CRC first: every later check then reads bytes the writer wrote.
  const uint32_t body = total - model_file_crc_bytes;
  if (crc32(buffer, body) != file_u32(buffer, body)) return file_refuse(out, status::bad_file, file_problem::bad_crc);

  out->family = file_u8(buffer, 6u);
  out->real = file_u8(buffer, 7u);
  out->table_format = file_u16(buffer, 8u);
  out->n_entries = file_u8(buffer, 10u);
  out->n_fields = file_u8(buffer, 11u);
  out->n_tables = file_u8(buffer, 12u);
  out->n_features = file_u32(buffer, 16u);
  out->size = total;
  if (file_u8(buffer, 13u) != 0u || file_u16(buffer, 14u) != 0u) {
    return file_refuse(out, status::bad_file, file_problem::bad_reserved);
  }
  if (out->n_entries == 0 || out->n_entries > model_file_max_entries || out->n_fields > model_file_max_fields ||
      out->n_tables > model_file_max_tables) {
    return file_refuse(out, status::bad_file, file_problem::bad_counts);
  }
  // Records follow the header: entry points, fields, table directory.
  const uint32_t entries_at = model_file_header_bytes;
  const uint32_t fields_at = entries_at + out->n_entries * model_file_entry_bytes;
  const uint32_t tables_at = fields_at + out->n_fields * model_file_field_bytes;
  const uint32_t records_end = tables_at + out->n_tables * model_file_table_bytes;
  if (records_end > body) return file_refuse(out, status::bad_file, file_problem::bad_size);

  for (uint8_t i = 0; i < out->n_entries; ++i) {
    const uint32_t at = entries_at + i * model_file_entry_bytes;
    file_entry& e = out->entries[i];
    e.id = file_u8(buffer, at);
    e.kind = file_u8(buffer, at + 1u);
    e.flags = file_u8(buffer, at + 2u);
    e.width = file_u32(buffer, at + 4u);
    if (file_u8(buffer, at + 3u) != 0u) return file_refuse(out, status::bad_file, file_problem::bad_reserved);
    const bool scalar = e.kind == static_cast<uint8_t>(output_kind::label) ||
                        e.kind == static_cast<uint8_t>(output_kind::outlier);
    if (e.id == 0u || e.id > entry_id_count || e.kind == 0u || e.kind > 4u || e.width == 0u ||
        (scalar && e.width != 1u) || (e.flags & ~entry_flag_log_of_proba) != 0u) {
      return file_refuse(out, status::bad_file, file_problem::bad_entry);
    }
  }
  for (uint8_t i = 0; i < out->n_fields; ++i) {
    out->fields[i] = file_u32(buffer, fields_at + i * model_file_field_bytes);
  }
  const uint32_t metadata_at = file_u32(buffer, 24u);
  const uint32_t metadata_size = file_u32(buffer, 28u);
  // Tables lie in order after the records, each 8-byte aligned, none
  // overlapping the next; then the metadata; then the CRC.
  uint64_t end = records_end;
  for (uint8_t i = 0; i < out->n_tables; ++i) {
    const uint32_t at = tables_at + i * model_file_table_bytes;
    file_table& t = out->tables[i];
    t.type = file_u8(buffer, at);
    if (file_u8(buffer, at + 1u) != 0u || file_u16(buffer, at + 2u) != 0u) {
      return file_refuse(out, status::bad_file, file_problem::bad_reserved);
    }
    const uint32_t offset = file_u32(buffer, at + 4u);
    t.count = file_u32(buffer, at + 8u);
    const uint32_t bytes = element_bytes(t.type);
    if (bytes == 0u) return file_refuse(out, status::bad_file, file_problem::bad_table_type);
    const uint64_t stop = static_cast<uint64_t>(offset) + static_cast<uint64_t>(t.count) * bytes;
    if (offset % 8u != 0u || offset < end || stop > body) {
      return file_refuse(out, status::bad_file, file_problem::table_outside);
    }
    t.data = static_cast<const uint8_t*>(buffer) + offset;
    end = stop;
  }
  const uint64_t metadata_end = static_cast<uint64_t>(metadata_at) + metadata_size;
  if (metadata_size != 0u && (metadata_at < end || metadata_end > body)) {
    return file_refuse(out, status::bad_file, file_problem::bad_metadata);
  }
  out->metadata = metadata_size != 0u ? static_cast<const uint8_t*>(buffer) + metadata_at : NULL;
  out->metadata_size = metadata_size;
  out->problem = file_problem::none;
  return status::ok;
}

}  // namespace emlearn_gen

#endif  // EMLEARN_GEN_MODEL_FILE_HPP
