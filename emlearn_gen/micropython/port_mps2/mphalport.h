/* Hardware abstraction of the MPS2 AN386 port: nothing but a clock stub;
 * standard output is semihosting (main.c). */
static inline mp_uint_t mp_hal_ticks_ms(void) {
    return 0;
}
static inline void mp_hal_set_interrupt_char(int c) {
    (void)c;
}

/* No pins: a pin type of its own keeps mphal.h from including extmod's
 * virtual pins, which the sources this port is built from do not carry. */
#define mp_hal_pin_obj_t int
