// Firmware side: a window of raw accelerometer samples in, an activity out.
// The header runs the window statistics, the scaler and the forest.
#include <stdint.h>

#include "activity_model.hpp"

// Filled by the sensor driver: sample s of axis c at s * n_channels + c, in g.
static float window[activity_model::n_samples * activity_model::n_channels];

// 0 idle, 1 walking, 2 running (activity_model::classes).
int32_t classify_window() { return activity_model::classes[activity_model::predict(window)]; }
