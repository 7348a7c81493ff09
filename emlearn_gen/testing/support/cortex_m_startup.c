/* Start-up code of the bare-metal Cortex-M test images (qemu-system-arm).
 *
 * A vector table, a reset handler that sets up C memory (copies .data from
 * flash, zeroes .bss), enables the FPU where the build uses one, opens the
 * semihosting standard handles and exits through semihosting with main()'s
 * return value, so that qemu exits with it. Faults print a message and exit
 * with status 99 instead of hanging the emulator.
 */
#include <stdint.h>

extern uint32_t __eg_data_load[];
extern uint32_t __eg_data_start[];
extern uint32_t __eg_data_end[];
extern uint32_t __eg_bss_start[];
extern uint32_t __eg_bss_end[];
extern uint32_t __eg_stack_top[];

int main(void);
void initialise_monitor_handles(void);
int _write(int fd, const char* buf, int len);
void _exit(int status) __attribute__((noreturn));

void eg_reset(void) __attribute__((noreturn));
void eg_fault(void) __attribute__((noreturn));

/* The initial stack pointer, then 15 exception handlers: reset, NMI,
 * HardFault, MemManage, BusFault, UsageFault, 4 reserved, SVCall, DebugMon,
 * reserved, PendSV, SysTick. Nothing enables interrupts. */
struct eg_vector_table {
  uint32_t* initial_sp;
  void (*handlers[15])(void);
};

__attribute__((section(".eg_vectors"), used)) const struct eg_vector_table eg_vectors = {
    __eg_stack_top,
    {eg_reset, eg_fault, eg_fault, eg_fault, eg_fault, eg_fault, 0, 0, 0, 0, eg_fault, eg_fault, 0,
     eg_fault, eg_fault},
};

/* Newlib calls these from code that the images do not use; they must exist. */
void _init(void) {}
void _fini(void) {}

void eg_reset(void) {
  const uint32_t* src = __eg_data_load;
  for (uint32_t* dst = __eg_data_start; dst < __eg_data_end; ++dst) {
    *dst = *src++;
  }
  for (uint32_t* dst = __eg_bss_start; dst < __eg_bss_end; ++dst) {
    *dst = 0u;
  }
#if defined(__ARM_FP)
  /* CPACR: full access to coprocessors 10 and 11 (the FPU). */
  *(volatile uint32_t*)0xE000ED88u |= (0xFu << 20);
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  initialise_monitor_handles();
  _exit(main());
}

void eg_fault(void) {
  static const char message[] = "\nFAULT: the CPU took an exception (hard fault)\n";
  _write(1, message, (int)(sizeof message - 1u));
  _exit(99);
}
