// Whether this translation unit is compiled with AddressSanitizer (GCC and Clang spell it
// differently), for the emulator's fiber annotations and shared-memory bounds.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define RTSEG_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RTSEG_EMU_ASAN 1
#endif
#endif
