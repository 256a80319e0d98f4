# Read after the Makefile by bench/run.sh (make -f Makefile -f bench/bench.mk):
# builds the in-process render timer against the release library with
# exactly kiji's flags and libraries.
$(BUILD)/bench/render: bench/render.c $(BUILD)/libkiji.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libkiji.a $(LDFLAGS) $(LDLIBS)

-include $(BUILD)/bench/render.d
