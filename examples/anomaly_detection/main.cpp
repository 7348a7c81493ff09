// Firmware side: one window's features in, a flag out.
// Build: arm-none-eabi-g++ -std=c++11 -Os -mcpu=cortex-m4 -mthumb -I<emlearn_gen.get_include()> -c main.cpp
#include "vibration_monitor.hpp"

// features: rms, peak, crest factor, band energy of the last window.
bool window_is_abnormal(const float* features) {
  return vibration_monitor::predict(features) == -1;  // -1: an outlier, as scikit-learn says
}

// How abnormal: below 0 is an outlier; lower is more abnormal.
float abnormality(const float* features) {
  float score;
  vibration_monitor::decision_function(features, &score);
  return score;
}
