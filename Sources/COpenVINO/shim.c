// Declarations only (include/COpenVINO.h); the engine is opened at run time.
#include "COpenVINO.h"
