# Read after the Makefile by bench/run.sh and bench/breaking.sh (make -f
# Makefile -f bench/bench.mk): builds the bench tools against the release
# library with exactly kiji's flags and libraries.
$(BUILD)/bench/render: bench/render.c $(BUILD)/libkiji.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkiji.a $(LDFLAGS) $(LDLIBS)

-include $(BUILD)/bench/render.d

# The paced comment poster of bench/breaking.sh (libcurl, jansson, kiji's
# buf).
$(BUILD)/bench/poster: bench/poster.c $(BUILD)/libkiji.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkiji.a $(LDFLAGS) $(LDLIBS)

-include $(BUILD)/bench/poster.d
