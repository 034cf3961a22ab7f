// Fused single-head attention (see ckernels_attention.h). The keys are first packed into panels of 16 keys,
// `kt[kp/16][d][16]` (kp = keys rounded up to 16, zero-padded), and the values into contiguous rows `vp[keys][d]`,
// so the inner loops read memory sequentially; a tile of 6 queries × 16 keys accumulates in 12 vector
// registers; the tile's scores `s[6, kp]` are normalised by the shared softmax and multiplied by the values,
// 2 queries × 32 value columns at a time.
#include "ckernels_attention.h"
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { TILE_ROWS = 6, KEY_STEP = 16 };

static size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

size_t ckernels_attention_scratch(size_t keys, size_t d) {
    size_t kp = round_up(keys, KEY_STEP);
    return d * kp + keys * d + TILE_ROWS * kp;
}

/// The keys the tile starting at query i0 with `rows` rows needs: all, or up to its last row's causal limit.
static size_t tile_keys(size_t keys, long causal_first, size_t i0, size_t rows) {
    if (causal_first < 0) return keys;
    size_t limit = (size_t)causal_first + i0 + rows;
    return limit < keys ? limit : keys;
}

/// kt[j / 16][dd][j % 16] = k[j, dd] for j < keys, zero for keys ≤ j < kp; vp[j][dd] = v[j, dd].
static void pack_keys_values(const float *k, const float *v, size_t ld, size_t keys, size_t d, size_t kp,
                             float *kt, float *vp) {
    for (size_t j = 0; j < kp; j++) {
        float *panel = kt + (j / KEY_STEP) * KEY_STEP * d + j % KEY_STEP;
        if (j < keys) {
            const float *row = k + j * ld;
            for (size_t dd = 0; dd < d; dd++) panel[dd * KEY_STEP] = row[dd];
            memcpy(vp + j * d, v + j * ld, d * sizeof(float));
        } else {
            for (size_t dd = 0; dd < d; dd++) panel[dd * KEY_STEP] = 0;
        }
    }
}

/// Scores of one tile: s[r, j] = scale·q_r·k_j for j < end (the portable loops).
static void tile_scores_portable(const float *q, size_t ld, size_t rows, const float *kt, size_t kp, size_t d,
                                 size_t end, float scale, float *s) {
    for (size_t r = 0; r < rows; r++) {
        const float *qr = q + r * ld;
        for (size_t j = 0; j < end; j++) {
            const float *panel = kt + (j / KEY_STEP) * KEY_STEP * d + j % KEY_STEP;
            float dot = 0;
            for (size_t dd = 0; dd < d; dd++) dot += qr[dd] * panel[dd * KEY_STEP];
            s[r * kp + j] = dot * scale;
        }
    }
}

/// out[r, :] = Σ_{j < end} s[r, j]·v[j, :] (v: row stride d; the portable loops).
static void tile_values_portable(const float *s, size_t kp, size_t rows, const float *v, size_t d, size_t end,
                                 float *out, size_t ldo) {
    for (size_t r = 0; r < rows; r++) {
        float *o = out + r * ldo;
        for (size_t c = 0; c < d; c++) o[c] = 0;
        for (size_t j = 0; j < end; j++) {
            float p = s[r * kp + j];
            for (size_t c = 0; c < d; c++) o[c] += p * v[j * d + c];
        }
    }
}

typedef void (*tile_scores_fn)(const float *, size_t, size_t, const float *, size_t, size_t, size_t, float, float *);
typedef void (*tile_values_fn)(const float *, size_t, size_t, const float *, size_t, size_t, float *, size_t);

/// Packs the keys and values, then runs the tiles of queries: scores, softmax, values.
static void attention_tiles(const float *q, const float *k, const float *v, size_t ld, float *out, size_t ldo,
                            size_t queries, size_t keys, size_t d, float scale, const float *bias, long causal_first,
                            float *scratch, tile_scores_fn tile_scores, tile_values_fn tile_values) {
    size_t kp = round_up(keys, KEY_STEP);
    float *kt = scratch, *vp = kt + d * kp, *s = vp + keys * d;
    pack_keys_values(k, v, ld, keys, d, kp, kt, vp);
    for (size_t i0 = 0; i0 < queries; i0 += TILE_ROWS) {
        size_t rows = queries - i0 < TILE_ROWS ? queries - i0 : TILE_ROWS;
        size_t end = tile_keys(keys, causal_first, i0, rows);
        tile_scores(q + i0 * ld, ld, rows, kt, kp, d, end, scale, s);
        ckernels_softmax_rows(s, rows, end, kp, bias, causal_first < 0 ? -1 : causal_first + (long)i0);
        tile_values(s, kp, rows, vp, d, end, out + i0 * ldo, ldo);
    }
}

#if defined(__x86_64__)
/// Scores of one tile: s[r, j] = scale·q_r·k_j for j < end (rounded up to 16; the padding is zero keys).
__attribute__((target("avx2,fma")))
static void tile_scores_avx2(const float *q, size_t ld, size_t rows, const float *kt, size_t kp, size_t d,
                             size_t end, float scale, float *s) {
    // Rows past the tile's last are computed from its last row and not stored: the loop stays branch-free.
    const float *qr[TILE_ROWS];
    for (size_t r = 0; r < TILE_ROWS; r++) qr[r] = q + (r < rows ? r : rows - 1) * ld;
    __m256 vs = _mm256_set1_ps(scale);
    for (size_t j0 = 0; j0 < end; j0 += KEY_STEP) {
        const float *panel = kt + j0 * d;   // [d][16]
        __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
               a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        for (size_t dd = 0; dd < d; dd++) {
            __m256 k0 = _mm256_loadu_ps(panel + dd * KEY_STEP), k1 = _mm256_loadu_ps(panel + dd * KEY_STEP + 8);
            __m256 b = _mm256_broadcast_ss(qr[0] + dd);
            a00 = _mm256_fmadd_ps(b, k0, a00); a01 = _mm256_fmadd_ps(b, k1, a01);
            b = _mm256_broadcast_ss(qr[1] + dd);
            a10 = _mm256_fmadd_ps(b, k0, a10); a11 = _mm256_fmadd_ps(b, k1, a11);
            b = _mm256_broadcast_ss(qr[2] + dd);
            a20 = _mm256_fmadd_ps(b, k0, a20); a21 = _mm256_fmadd_ps(b, k1, a21);
            b = _mm256_broadcast_ss(qr[3] + dd);
            a30 = _mm256_fmadd_ps(b, k0, a30); a31 = _mm256_fmadd_ps(b, k1, a31);
            b = _mm256_broadcast_ss(qr[4] + dd);
            a40 = _mm256_fmadd_ps(b, k0, a40); a41 = _mm256_fmadd_ps(b, k1, a41);
            b = _mm256_broadcast_ss(qr[5] + dd);
            a50 = _mm256_fmadd_ps(b, k0, a50); a51 = _mm256_fmadd_ps(b, k1, a51);
        }
        __m256 acc[TILE_ROWS][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}, {a40, a41}, {a50, a51}};
        for (size_t r = 0; r < rows; r++) {
            _mm256_storeu_ps(s + r * kp + j0, _mm256_mul_ps(acc[r][0], vs));
            _mm256_storeu_ps(s + r * kp + j0 + 8, _mm256_mul_ps(acc[r][1], vs));
        }
    }
}

/// out[r, :] = Σ_{j < end} s[r, j]·v[j, :] for the tile's rows, two rows × 32 columns at a time (v: row stride d).
__attribute__((target("avx2,fma")))
static void tile_values_avx2(const float *s, size_t kp, size_t rows, const float *v, size_t d, size_t end,
                             float *out, size_t ldo) {
    for (size_t r0 = 0; r0 < rows; r0 += 2) {
        size_t r1 = r0 + 1 < rows ? r0 + 1 : r0;
        const float *p0 = s + r0 * kp, *p1 = s + r1 * kp;
        float *o0 = out + r0 * ldo, *o1 = out + r1 * ldo;
        size_t c = 0;
        for (; c + 32 <= d; c += 32) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (size_t j = 0; j < end; j++) {
                const float *vr = v + j * d + c;
                __m256 v0 = _mm256_loadu_ps(vr), v1 = _mm256_loadu_ps(vr + 8), v2 = _mm256_loadu_ps(vr + 16),
                       v3 = _mm256_loadu_ps(vr + 24);
                __m256 w = _mm256_broadcast_ss(p0 + j);
                a0 = _mm256_fmadd_ps(w, v0, a0); a1 = _mm256_fmadd_ps(w, v1, a1);
                a2 = _mm256_fmadd_ps(w, v2, a2); a3 = _mm256_fmadd_ps(w, v3, a3);
                w = _mm256_broadcast_ss(p1 + j);
                b0 = _mm256_fmadd_ps(w, v0, b0); b1 = _mm256_fmadd_ps(w, v1, b1);
                b2 = _mm256_fmadd_ps(w, v2, b2); b3 = _mm256_fmadd_ps(w, v3, b3);
            }
            // Row r1 is stored after r0: when the tile has an odd row it is r0 itself, with the same values.
            _mm256_storeu_ps(o0 + c, a0); _mm256_storeu_ps(o0 + c + 8, a1);
            _mm256_storeu_ps(o0 + c + 16, a2); _mm256_storeu_ps(o0 + c + 24, a3);
            _mm256_storeu_ps(o1 + c, b0); _mm256_storeu_ps(o1 + c + 8, b1);
            _mm256_storeu_ps(o1 + c + 16, b2); _mm256_storeu_ps(o1 + c + 24, b3);
        }
        for (; c + 8 <= d; c += 8) {
            __m256 a = _mm256_setzero_ps(), b = a;
            for (size_t j = 0; j < end; j++) {
                __m256 vv = _mm256_loadu_ps(v + j * d + c);
                a = _mm256_fmadd_ps(_mm256_broadcast_ss(p0 + j), vv, a);
                b = _mm256_fmadd_ps(_mm256_broadcast_ss(p1 + j), vv, b);
            }
            _mm256_storeu_ps(o0 + c, a);
            _mm256_storeu_ps(o1 + c, b);
        }
        for (; c < d; c++) {
            float a = 0, b = 0;
            for (size_t j = 0; j < end; j++) { a += p0[j] * v[j * d + c]; b += p1[j] * v[j * d + c]; }
            o0[c] = a;
            o1[c] = b;
        }
    }
}

#endif

static void attention_block(const float *q, const float *k, const float *v, size_t ld, float *out, size_t ldo,
                            size_t queries, size_t keys, size_t d, float scale, const float *bias,
                            long causal_first, float *scratch, int vectorised) {
    if (queries == 0 || d == 0) return;
    if (keys == 0) {
        for (size_t i = 0; i < queries; i++) memset(out + i * ldo, 0, d * sizeof(float));
        return;
    }
    tile_scores_fn scores = tile_scores_portable;
    tile_values_fn values = tile_values_portable;
#if defined(__x86_64__)
    if (vectorised && ckernels_has_avx2()) { scores = tile_scores_avx2; values = tile_values_avx2; }
#endif
    attention_tiles(q, k, v, ld, out, ldo, queries, keys, d, scale, bias, causal_first, scratch, scores, values);
}

void ckernels_attention_block(const float *q, const float *k, const float *v, size_t ld, float *out, size_t ldo,
                              size_t queries, size_t keys, size_t d, float scale, const float *bias,
                              long causal_first, float *scratch) {
    attention_block(q, k, v, ld, out, ldo, queries, keys, d, scale, bias, causal_first, scratch, 1);
}

void ckernels_attention_block_portable(const float *q, const float *k, const float *v, size_t ld, float *out,
                                       size_t ldo, size_t queries, size_t keys, size_t d, float scale,
                                       const float *bias, long causal_first, float *scratch) {
    attention_block(q, k, v, ld, out, ldo, queries, keys, d, scale, bias, causal_first, scratch, 0);
}
