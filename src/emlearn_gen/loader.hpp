// Forwards to the runtime header of the same name (see src/emlearn_gen.h).
#include "../../runtime/include/emlearn_gen/loader.hpp"
