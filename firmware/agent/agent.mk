# Agent and host-test rules (included by Makefile).

PROJECT_WARN := -Wall -Wextra -Werror -Wno-unused-parameter
CORE_SRCS := core/sha256.c core/crc32.c core/slots.c core/ota.c core/frame.c
CORE_INC := -I$(AGENT_DIR)/include -I$(AGENT_DIR)/core -isystem $(MONO)
# Monocypher 4.0.3, vendored unchanged: Ed25519 (SHA-512) from optional/
MONO_SRCS := monocypher.c optional/monocypher-ed25519.c

# ---- host unit tests of the portable core (host gcc) ----
HOST_OUT ?= $(OUT)/host
HOST_CC ?= gcc
HOST_FLAGS := -std=c11 -O1 -g -fsanitize=address,undefined
HOST_HDRS := $(wildcard $(AGENT_DIR)/core/*.h $(AGENT_DIR)/include/tinyreg/*.h $(AGENT_DIR)/host/*.h)
HOST_MONO_OBJS := $(patsubst %,$(HOST_OUT)/mono/%.o,$(MONO_SRCS))
.PHONY: host-test
host-test: $(HOST_OUT)/host_test $(HOST_OUT)/ota_test $(HOST_OUT)/frame_test
$(HOST_OUT)/mono/%.c.o: $(MONO)/%.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_FLAGS) -w -I$(MONO) -c $< -o $@
$(HOST_OUT)/%_test: $(addprefix $(AGENT_DIR)/,$(CORE_SRCS) host/sim_flash.c) $(AGENT_DIR)/host/%_test.c $(HOST_MONO_OBJS) $(HOST_HDRS)
	@mkdir -p $(dir $@)
	$(HOST_CC) $(HOST_FLAGS) $(PROJECT_WARN) $(CORE_INC) \
	  $(addprefix $(AGENT_DIR)/,$(CORE_SRCS) host/sim_flash.c) $(AGENT_DIR)/host/$*_test.c \
	  $(HOST_MONO_OBJS) -o $@

# ---- the agent ELF (arm-none-eabi) ----
ifeq ($(CORE),mps2-an386)
  TARGET_DEFS := -DTR_TARGET_NAME='"qemu-mps2-an386"' -DTR_CORE_NAME='"cortex-m4f"'
else
  TARGET_DEFS := -DTR_TARGET_NAME='"qemu-mps3-an547"' -DTR_CORE_NAME='"cortex-m55"'
endif
AGENT_C_SRCS := $(CORE_SRCS) ports/qemu/hal_qemu.c ports/qemu/startup.c
AGENT_CXX_SRCS := app/main.cc app/bench.cc app/serve.cc
AGENT_OBJS := $(patsubst %,$(OUT)/obj/%.o,$(AGENT_C_SRCS) $(AGENT_CXX_SRCS)) \
  $(patsubst %,$(OUT)/mono/%.o,$(MONO_SRCS))
AGENT_INC := $(CORE_INC) -I$(AGENT_DIR)/app -I$(AGENT_DIR)/ports/qemu \
  $(subst -I,-isystem ,$(TFLM_INCLUDES))
AGENT_FLAGS := $(COMMON_FLAGS) $(BOARD_DEFS) $(TARGET_DEFS) $(PROJECT_WARN) $(AGENT_INC)
AGENT_DEPS := $(wildcard $(AGENT_DIR)/*/*.h $(AGENT_DIR)/*/*/*.h $(AGENT_DIR)/ports/qemu/*.ld*) $(MAKEFILE_LIST)
LDFLAGS := $(ARCH_FLAGS) --specs=nano.specs --specs=rdimon.specs -nostartfiles \
  -L$(AGENT_DIR)/ports/qemu -T$(LDSCRIPT) -Wl,--gc-sections -Wl,-Map=$(OUT)/agent.map \
  -Wl,--no-warn-rwx-segments

agent: $(OUT)/agent.elf

$(OUT)/agent.elf: $(AGENT_OBJS) $(TFLM_LIB)
	$(CXX) $(LDFLAGS) $(AGENT_OBJS) $(TFLM_LIB) -lm -o $@
	$(SIZE) $@

$(OUT)/obj/%.c.o: $(AGENT_DIR)/%.c $(AGENT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(AGENT_FLAGS) $(C_STD) -c $< -o $@
$(OUT)/mono/%.c.o: $(MONO)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -I$(MONO) -c $< -o $@
$(OUT)/obj/%.cc.o: $(AGENT_DIR)/%.cc $(AGENT_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) $(AGENT_FLAGS) $(CXX_STD) -c $< -o $@
