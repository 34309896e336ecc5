/* vae/export/onnx.h: a model's decoder as an ONNX file for Geant4's Par04 inference
 * (Par04OnnxInference: ONNX Runtime, one float input, the first output read as the shower).
 *
 * The graph (ONNX IR 8, opset 13, built with protobuf-c on the ONNX schema onnx.proto):
 *   input  "input"  (N, Z + 4) float: [z (Z), E / 1024 GeV, angle / 90 deg, geometry one-hot (2)],
 *          exactly the vector Par04InferenceSetup::GetEnergies builds (z ~ N(0, I) drawn by the
 *          caller: the sampling is left to the caller, as in Par04);
 *   the model's own conditions made from it: ln-energy u = (ln(e 1024 GeV) - ln E_min) / span
 *          (Log, Mul, Add), E / 1024 GeV, angle / 90, the one-hot, in the config's order (Slice,
 *          Concat); conditions the model does not take are dropped;
 *   the folded decoder (vae/infer.h: batch norm folded into the dense layers): Gemm + the
 *          activation (Relu, LeakyRelu, Sigmoid, Tanh, Softplus) per hidden layer, Gemm head;
 *   output "output":
 *     bernoulli (Par04's VAE): sigmoid of the head = E_cell / E_inc per voxel, (N, V), in Par04's
 *          voxel order (r, phi, z with z fastest) when the geometry is a regular grid (the head's
 *          rows are permuted: no extra node), else in the CaloChallenge order (layer, alpha, r);
 *          Par04 multiplies it by the particle's energy;
 *     raw = 1 (any likelihood): the head's outputs, the likelihood parameters (N, O) in the
 *          model's order (config.h), for a caller that samples them itself.
 * What the file does not hold: the learned prior (vae/prior.h), the hurdle's sampling and the
 * readout threshold; showers from it are those of `generate --prior standard` in the mean
 * (bernoulli) or before sampling (raw).
 * The file is written to a temporary name and renamed (io/atomic.h); never replaces an
 * existing file unless force.
 */
#ifndef VAE_EXPORT_ONNX_H
#define VAE_EXPORT_ONNX_H

#include "vae/infer.h"
#include "physics/geometry.h"

/* Writes q's decoder (f32, folded) for geometry g to path. *par04_order (if not NULL) receives
 * 1 when the output is in Par04's voxel order. BASE_OK or a status (a non-bernoulli model
 * without raw: BASE_EINVAL, saying why). */
int vae_export_onnx(const vae_infer_t *q, const phys_geometry_t *g, const char *path, int raw, int force,
                    int *par04_order);

/* 1 when g is a regular (R, PHI, Z) grid: every layer has the same radial and angular bins. */
int vae_export_regular_grid(const phys_geometry_t *g);

#endif
