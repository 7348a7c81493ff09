// Firmware side: a window of raw accelerometer samples in, an activity out.
// The header runs the window statistics, the scaler and the forest, and
// votes over the last windows' activities on a state the firmware owns.
#include <stdint.h>

#include "activity_model.hpp"

// Filled by the sensor driver: sample s of axis c at s * n_channels + c, in g.
static float window[activity_model::n_samples * activity_model::n_channels];

// The vote over the last 3 windows: static, no heap; reset() starts it.
static activity_model::stream_state smoothing;

void start_stream() { activity_model::reset(smoothing); }

// 0 idle, 1 walking, 2 running (activity_model::classes): this window's own.
int32_t classify_window() { return activity_model::classes[activity_model::predict(window)]; }

// The same, voted over this window and the 2 before it since start_stream().
int32_t classify_stream() { return activity_model::classes[activity_model::predict_stream(smoothing, window)]; }
