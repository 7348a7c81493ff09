// Arduino and PlatformIO entry point of the emlearn-gen runtime.
//
// Include it before a model header written by `emlearn-gen convert`:
//
//   #include <emlearn_gen.h>
//   #include "gesture.hpp"
//
// The Arduino IDE finds a library by the headers directly in its src/
// folder and then puts src/ on the include path; the model header's
// `#include "emlearn_gen/..."` lines then resolve to src/emlearn_gen/, which
// forwards to the runtime in runtime/include/ (one copy of the runtime in
// the repository). Standalone model headers (--standalone) need neither.
#ifndef EMLEARN_GEN_ARDUINO_H
#define EMLEARN_GEN_ARDUINO_H

#include "emlearn_gen/clusters.hpp"
#include "emlearn_gen/common.hpp"
#include "emlearn_gen/dense.hpp"
#include "emlearn_gen/distance.hpp"
#include "emlearn_gen/fft.hpp"
#include "emlearn_gen/filters.hpp"
#include "emlearn_gen/float64.hpp"
#include "emlearn_gen/linear.hpp"
#include "emlearn_gen/loader.hpp"
#include "emlearn_gen/math.hpp"
#include "emlearn_gen/mixture.hpp"
#include "emlearn_gen/mlp.hpp"
#include "emlearn_gen/model_file.hpp"
#include "emlearn_gen/naive_bayes.hpp"
#include "emlearn_gen/neighbors.hpp"
#include "emlearn_gen/postprocess.hpp"
#include "emlearn_gen/spectrum.hpp"
#include "emlearn_gen/svm.hpp"
#include "emlearn_gen/transforms.hpp"
#include "emlearn_gen/tree_ensemble.hpp"
#include "emlearn_gen/window_stats.hpp"

#endif  // EMLEARN_GEN_ARDUINO_H
