// emlearn-gen's MicroPython native modules: what the model module (a
// generated C file, emlearn_gen/micropython/native.py) and the runtime
// module (emlg_rt_module.c) share: reading a row, checking `out=`, making
// results, raising errors with their numbers.
//
// Included once per module, before the module's own code. The C++ kernels
// are compiled separately and reached through extern "C" functions: MicroPython's
// dynruntime.h is C, the runtime is C++.
#ifndef EMLG_MPY_H
#define EMLG_MPY_H

#include "py/dynruntime.h"

// mpy_ld links no C library. Compilers call these for copies and zeroing,
// and the runtime calls memcpy/memset/memcmp itself. This file is compiled with
// -fno-tree-loop-distribute-patterns so the loops do not become calls to
// themselves.
void *memset(void *s, int c, size_t n) {
    unsigned char *p = (unsigned char *)s;
    while (n--) {
        *p++ = (unsigned char)c;
    }
    return s;
}

void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    while (n--) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (d < s) {
        while (n--) {
            *d++ = *s++;
        }
    } else {
        while (n--) {
            d[n] = s[n];
        }
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    for (size_t i = 0; i < n; ++i) {
        if (p[i] != q[i]) {
            return p[i] < q[i] ? -1 : 1;
        }
    }
    return 0;
}

// Output kinds, as core/entry_points.py and model_file.hpp number them.
#define EMLG_LABEL 1
#define EMLG_OUTLIER 2
#define EMLG_VALUES 3
#define EMLG_INDICATOR 4

// The array type, cached at import: a static object of the firmware (its
// address never moves and the GC does not own it), so a plain C variable
// may hold it.
mp_obj_t emlg_array_type;

static inline void emlg_init_array_type(void) {
    mp_obj_t module = mp_import_name(MP_QSTR_array, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    emlg_array_type = mp_load_attr(module, MP_QSTR_array);
}

// Decimal digits of n into buf (at least 21 bytes); returns the length.
static inline size_t emlg_format_uint(char *buf, size_t n) {
    char digits[21];
    size_t count = 0;
    do {
        digits[count++] = (char)('0' + n % 10u);
        n /= 10u;
    } while (n != 0u);
    for (size_t i = 0; i < count; ++i) {
        buf[i] = digits[count - 1u - i];
    }
    return count;
}

static inline size_t emlg_append(char *buf, size_t at, size_t cap, const char *text) {
    while (*text != '\0' && at + 1u < cap) {
        buf[at++] = *text++;
    }
    return at;
}

// Raises `type` with "<what> has <got> values; <expect> <want>" (the
// numbers the caller needs to fix the call).
static inline NORETURN void emlg_raise_count(const mp_obj_type_t *type, const char *what, size_t got, const char *expect,
                                      size_t want) {
    char message[160];
    char number[21];
    size_t at = emlg_append(message, 0, sizeof message, what);
    at = emlg_append(message, at, sizeof message, " has ");
    number[emlg_format_uint(number, got)] = '\0';
    at = emlg_append(message, at, sizeof message, number);
    at = emlg_append(message, at, sizeof message, " values; ");
    at = emlg_append(message, at, sizeof message, expect);
    at = emlg_append(message, at, sizeof message, " ");
    number[emlg_format_uint(number, want)] = '\0';
    at = emlg_append(message, at, sizeof message, number);
    mp_raise_dyn(mp_obj_new_exception_arg1(type, mp_obj_new_str(message, at)));
}

static inline NORETURN void emlg_raise_typecode(const char *what, int typecode, const char *want) {
    char message[160];
    size_t at = emlg_append(message, 0, sizeof message, what);
    at = emlg_append(message, at, sizeof message, " is a buffer of typecode '");
    message[at++] = (char)typecode;
    at = emlg_append(message, at, sizeof message, "'; ");
    at = emlg_append(message, at, sizeof message, want);
    mp_raise_dyn(mp_obj_new_exception_arg1(&mp_type_TypeError, mp_obj_new_str(message, at)));
}

// Whether a buffer's typecode is raw bytes: bytes and memoryviews say 'B'
// (or 'b'), a bytearray says 1 (MicroPython's BYTEARRAY_TYPECODE).
static inline bool emlg_is_bytes(int typecode) {
    return typecode == 'B' || typecode == 'b' || typecode == 1;
}

// The n float32 values of row `x`: a list or tuple of numbers (each rounded
// to float32, as the host rounds its rows), or a buffer of float32
// (array('f'), or bytes/bytearray/memoryview of their little-endian bytes).
// Returns the buffer itself where it is aligned float32 data (no copy),
// else `row` (n floats) filled from it.
static inline const float *emlg_row(mp_obj_t x, float *row, size_t n) {
    const mp_obj_type_t *type = mp_obj_get_type(x);
    if (type == &mp_type_list || type == &mp_type_tuple) {
        size_t len;
        mp_obj_t *items;
        mp_obj_get_array(x, &len, &items);
        if (len != n) {
            emlg_raise_count(&mp_type_ValueError, "x", len, "the model takes", n);
        }
        for (size_t i = 0; i < n; ++i) {
            row[i] = mp_obj_get_float_to_f(items[i]);
        }
        return row;
    }
    mp_buffer_info_t info;
    if (type == &mp_type_str || !mp_get_buffer(x, &info, MP_BUFFER_READ)) {
        mp_raise_TypeError("x must be an array('f'), a list or tuple of numbers, or a buffer of float32 values");
    }
    if (info.typecode != 'f' && !emlg_is_bytes(info.typecode)) {
        emlg_raise_typecode("x", info.typecode, "give float32 values: array('f'), or the bytes of float32 values");
    }
    if (info.len % 4u != 0u) {
        mp_raise_ValueError("x's bytes are not a whole number of float32 values (4 bytes each)");
    }
    if (info.len / 4u != n) {
        emlg_raise_count(&mp_type_ValueError, "x", info.len / 4u, "the model takes", n);
    }
    if (((uintptr_t)info.buf & 3u) == 0u) {
        return (const float *)info.buf;
    }
    memcpy(row, info.buf, n * sizeof(float));
    return row;
}

// `out=` of an entry point writing `width` elements of `typecode` ('f' for
// values, 'i' for an indicator's int32): the caller's array, checked, or
// NULL where the caller gave none (or None).
static inline void *emlg_out_buffer(mp_obj_t out, size_t width, int typecode) {
    if (out == MP_OBJ_NULL || out == mp_const_none) {
        return NULL;
    }
    mp_buffer_info_t info;
    if (!mp_get_buffer(out, &info, MP_BUFFER_WRITE)) {
        mp_raise_TypeError(typecode == 'f' ? "out must be a writable array('f')" : "out must be a writable array('i')");
    }
    if (info.typecode != typecode) {
        emlg_raise_typecode("out", info.typecode, typecode == 'f' ? "give an array('f')" : "give an array('i')");
    }
    if (info.len != width * 4u) {
        emlg_raise_count(&mp_type_ValueError, "out", info.len / 4u, "this method writes", width);
    }
    if (((uintptr_t)info.buf & 3u) != 0u) {
        mp_raise_ValueError("out is not 4-byte aligned: give an array('f') or array('i') of its own");
    }
    return info.buf;
}

// A new array of `typecode` holding the `width` 4-byte elements at `data`.
static inline mp_obj_t emlg_new_array(int typecode, const void *data, size_t width) {
    mp_obj_t args[2];
    args[0] = MP_OBJ_NEW_QSTR(typecode == 'f' ? MP_QSTR_f : MP_QSTR_i);
    args[1] = mp_obj_new_bytes((const byte *)data, width * 4u);
    return mp_call_function_n_kw(emlg_array_type, 2, 0, args);
}

// The result of a values entry point: a float where it writes one value,
// else an array('f'); the caller's `out` where it gave one.
static inline mp_obj_t emlg_values_result(mp_obj_t out, const float *values, size_t width) {
    if (out != MP_OBJ_NULL && out != mp_const_none) {
        return out;
    }
    if (width == 1u) {
        return mp_obj_new_float_from_f(values[0]);
    }
    return emlg_new_array('f', values, width);
}

// Positional x and the optional `out` (second positional or keyword) of a
// call with `n_args` positional arguments, the first `skip` of them not ours
// (a method's self). Raises TypeError for anything else.
static inline mp_obj_t emlg_parse_call(size_t n_args, const mp_obj_t *args, mp_map_t *kw, size_t skip, mp_obj_t *out) {
    *out = MP_OBJ_NULL;
    if (n_args < skip + 1u || n_args > skip + 2u) {
        mp_raise_TypeError("takes one row x and an optional out=");
    }
    if (n_args == skip + 2u) {
        *out = args[skip + 1u];
    }
    if (kw != NULL) {
        for (size_t i = 0; i < kw->alloc; ++i) {
            if (!mp_map_slot_is_filled(kw, i)) {
                continue;
            }
            if (kw->table[i].key != MP_OBJ_NEW_QSTR(MP_QSTR_out) || *out != MP_OBJ_NULL) {
                mp_raise_TypeError("the only keyword argument is out=, given once");
            }
            *out = kw->table[i].value;
        }
    }
    return args[skip];
}

#endif  // EMLG_MPY_H
