/* binascii.hexlify, unhexlify and crc32: scripts print float32 values as
 * the hex of their bytes, and model files carry a CRC-32 (zlib's), which
 * MicroPython's own binascii computes on most ports. MicroPython's own binascii lives in extmod/, which the
 * sources this port is built from do not carry. */
#include "py/runtime.h"

static mp_obj_t binascii_hexlify(mp_obj_t data_in) {
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    static const char digits[] = "0123456789abcdef";
    vstr_t out;
    vstr_init_len(&out, 2 * data.len);
    const uint8_t *in = data.buf;
    for (size_t i = 0; i < data.len; ++i) {
        out.buf[2 * i] = digits[in[i] >> 4];
        out.buf[2 * i + 1] = digits[in[i] & 15];
    }
    return mp_obj_new_bytes_from_vstr(&out);
}
static MP_DEFINE_CONST_FUN_OBJ_1(binascii_hexlify_obj, binascii_hexlify);

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static mp_obj_t binascii_unhexlify(mp_obj_t data_in) {
    mp_buffer_info_t data;
    mp_get_buffer_raise(data_in, &data, MP_BUFFER_READ);
    if (data.len % 2 != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("odd-length string"));
    }
    vstr_t out;
    vstr_init_len(&out, data.len / 2);
    const uint8_t *in = data.buf;
    for (size_t i = 0; i < data.len / 2; ++i) {
        int high = hex_value(in[2 * i]), low = hex_value(in[2 * i + 1]);
        if (high < 0 || low < 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("non-hexadecimal digit found"));
        }
        out.buf[i] = (char)((high << 4) | low);
    }
    return mp_obj_new_bytes_from_vstr(&out);
}
static MP_DEFINE_CONST_FUN_OBJ_1(binascii_unhexlify_obj, binascii_unhexlify);

/* crc32(data, value=0): zlib's CRC-32 (reflected polynomial 0xEDB88320),
 * continuing from `value`. */
static mp_obj_t binascii_crc32(size_t n_args, const mp_obj_t *args) {
    mp_buffer_info_t data;
    mp_get_buffer_raise(args[0], &data, MP_BUFFER_READ);
    uint32_t crc = n_args > 1 ? mp_obj_get_int_truncated(args[1]) : 0;
    crc = ~crc;
    const uint8_t *in = data.buf;
    for (size_t i = 0; i < data.len; ++i) {
        crc ^= in[i];
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    return mp_obj_new_int_from_uint(~crc);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(binascii_crc32_obj, 1, 2, binascii_crc32);

static const mp_rom_map_elem_t binascii_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_binascii) },
    { MP_ROM_QSTR(MP_QSTR_hexlify), MP_ROM_PTR(&binascii_hexlify_obj) },
    { MP_ROM_QSTR(MP_QSTR_unhexlify), MP_ROM_PTR(&binascii_unhexlify_obj) },
    { MP_ROM_QSTR(MP_QSTR_crc32), MP_ROM_PTR(&binascii_crc32_obj) },
};
static MP_DEFINE_CONST_DICT(binascii_globals, binascii_globals_table);

const mp_obj_module_t mp_module_binascii = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&binascii_globals,
};

MP_REGISTER_MODULE(MP_QSTR_binascii, mp_module_binascii);
