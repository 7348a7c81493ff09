// Classifies three iris flowers with the model in iris_tree.hpp, which the
// build generates from iris_tree.joblib (see CMakeLists.txt).
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#include "iris_tree.hpp"

// Sepal length, sepal width, petal length, petal width (cm).
static const float flowers[][iris_tree::n_features] = {
    {5.1f, 3.5f, 1.4f, 0.2f},
    {6.4f, 3.2f, 4.5f, 1.5f},
    {6.3f, 3.3f, 6.0f, 2.5f},
};

int main(void) {
  const unsigned count = sizeof flowers / sizeof flowers[0];
  for (unsigned i = 0; i < count; ++i) {
    const int32_t label = iris_tree::predict(flowers[i]);
    printk("flower %u: class %d\n", i, static_cast<int>(iris_tree::classes[label]));
  }
  return 0;
}
