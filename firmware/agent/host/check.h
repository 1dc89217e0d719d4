/* The host unit tests' one check macro: counts checks and failures, prints where one failed. */
#ifndef TINYREG_HOST_CHECK_H
#define TINYREG_HOST_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...)                          \
  do {                                            \
    checks++;                                     \
    if (!(cond)) {                                \
      failures++;                                 \
      printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      printf(__VA_ARGS__);                        \
      printf("\n");                               \
    }                                             \
  } while (0)

#endif
