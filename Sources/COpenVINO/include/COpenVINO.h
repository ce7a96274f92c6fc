// The part of OpenVINO's C API (openvino/c/*.h, Apache-2.0) that Vigie's detector calls,
// declared here so that Vigie builds without the engine: the library is opened at run
// time (dlopen) from the `openvino` wheel that scripts/install-analysis installs, and
// analysis says it is unavailable when it is absent. Types as in OpenVINO 2024-2026.
#ifndef VIGIE_COPENVINO_H
#define VIGIE_COPENVINO_H
#include <stddef.h>
#include <stdint.h>

typedef struct ov_core ov_core_t;
typedef struct ov_model ov_model_t;
typedef struct ov_compiled_model ov_compiled_model_t;
typedef struct ov_infer_request ov_infer_request_t;
typedef struct ov_tensor ov_tensor_t;

typedef struct { int64_t rank; int64_t *dims; } ov_shape_t;
typedef struct ov_dimension { int64_t min; int64_t max; } ov_dimension_t;
typedef ov_dimension_t ov_rank_t;
typedef struct ov_partial_shape { ov_rank_t rank; ov_dimension_t *dims; } ov_partial_shape_t;
typedef struct { const char *key; const void *value; } ov_property_t;
typedef struct { const char *buildNumber; const char *description; } ov_version_t;

/// ov_element_type_e's F32.
static const int vigie_ov_f32 = 4;

typedef int (*vigie_ov_get_openvino_version)(ov_version_t *version);
typedef void (*vigie_ov_version_free)(ov_version_t *version);
typedef int (*vigie_ov_core_create)(ov_core_t **core);
typedef void (*vigie_ov_core_free)(ov_core_t *core);
typedef int (*vigie_ov_core_read_model)(const ov_core_t *core, const char *model_path, const char *bin_path, ov_model_t **model);
typedef void (*vigie_ov_model_free)(ov_model_t *model);
typedef int (*vigie_ov_model_reshape_single_input)(const ov_model_t *model, const ov_partial_shape_t partial_shape);
typedef int (*vigie_ov_partial_shape_create_static)(const int64_t rank, const int64_t *dims, ov_partial_shape_t *partial_shape);
typedef void (*vigie_ov_partial_shape_free)(ov_partial_shape_t *partial_shape);
typedef int (*vigie_ov_core_compile_model_props)(const ov_core_t *core, const ov_model_t *model, const char *device_name,
                                                 const size_t num_properties, const ov_property_t *properties,
                                                 ov_compiled_model_t **compiled_model);
typedef void (*vigie_ov_compiled_model_free)(ov_compiled_model_t *compiled_model);
typedef int (*vigie_ov_compiled_model_outputs_size)(const ov_compiled_model_t *compiled_model, size_t *size);
typedef int (*vigie_ov_compiled_model_create_infer_request)(const ov_compiled_model_t *compiled_model, ov_infer_request_t **request);
typedef void (*vigie_ov_infer_request_free)(ov_infer_request_t *request);
typedef int (*vigie_ov_infer_request_set_input_tensor_by_index)(ov_infer_request_t *request, const size_t idx, const ov_tensor_t *tensor);
typedef int (*vigie_ov_infer_request_get_output_tensor_by_index)(const ov_infer_request_t *request, const size_t idx, ov_tensor_t **tensor);
typedef int (*vigie_ov_infer_request_infer)(ov_infer_request_t *request);
typedef int (*vigie_ov_shape_create)(const int64_t rank, const int64_t *dims, ov_shape_t *shape);
typedef int (*vigie_ov_shape_free)(ov_shape_t *shape);
typedef int (*vigie_ov_tensor_create_from_host_ptr)(const int type, const ov_shape_t shape, void *host_ptr, ov_tensor_t **tensor);
typedef int (*vigie_ov_tensor_get_shape)(const ov_tensor_t *tensor, ov_shape_t *shape);
typedef int (*vigie_ov_tensor_data)(const ov_tensor_t *tensor, void **data);
typedef void (*vigie_ov_tensor_free)(ov_tensor_t *tensor);
typedef const char *(*vigie_ov_get_last_err_msg)(void);

#endif
