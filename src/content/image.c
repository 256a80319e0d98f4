/*
 * Uploaded images: type sniffing, dimensions and metadata stripping for
 * JPEG, PNG, WebP and GIF, by walking each format's container (segments,
 * chunks, blocks) with every length checked against what is left. One
 * walker per format serves both content_image_info (out == NULL) and
 * content_image_strip, so whatever info accepts, strip can copy. Pixel
 * data is never decoded: nothing here costs more than one pass over the
 * bytes, and no decompression bomb can go off.
 */
#include "image.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

static const struct img_kind {
	const char *mime;
	const char *ext;
} img_kinds[IMAGE__MAX] = {
	[IMAGE_NONE] = {NULL, NULL},
	[IMAGE_JPEG] = {"image/jpeg", "jpg"},
	[IMAGE_PNG] = {"image/png", "png"},
	[IMAGE_WEBP] = {"image/webp", "webp"},
	[IMAGE_GIF] = {"image/gif", "gif"},
};

#define PNG_SIG "\x89PNG\r\n\x1a\n"

static uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static uint32_t
le16(const unsigned char *p)
{
	return (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le24(const unsigned char *p)
{
	return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[1] << 8 | p[0];
}

/* Appends when there is an out (info passes NULL). */
static void
img_put(buf *out, const void *p, size_t n)
{
	if (out != NULL)
		buf_put(out, p, n);
}

/* A dimension we accept. */
static bool
img_dim_ok(uint32_t d)
{
	return d >= 1 && d <= CONTENT_IMAGE_MAX_DIM;
}

enum image_type
content_image_sniff(const void *vp, size_t n)
{
	const unsigned char *p = vp;

	if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
		return IMAGE_JPEG;
	if (n >= 8 && memcmp(p, PNG_SIG, 8) == 0)
		return IMAGE_PNG;
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 &&
	    memcmp(p + 8, "WEBP", 4) == 0)
		return IMAGE_WEBP;
	if (n >= 6 &&
	    (memcmp(p, "GIF87a", 6) == 0 || memcmp(p, "GIF89a", 6) == 0))
		return IMAGE_GIF;
	return IMAGE_NONE;
}

/* ---- JPEG ------------------------------------------------------------- */

/* Start-of-frame markers (SOF0-15 but DHT C4, JPG C8 and DAC CC): their
 * segment holds the image's height and width. */
static bool
jpeg_is_sof(unsigned m)
{
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

/* What becomes of an APPn or COM segment (m, payload s of n bytes). */
enum jpeg_keep {
	JPEG_DROP,
	JPEG_COPY,
	JPEG_JFIF, /* APP0 JFIF: copied with no thumbnail */
};

/* Kept: APP0 JFIF (the colour space of old decoders), APP2 ICC_PROFILE
 * (colours), APP14 Adobe (the colour transform of CMYK files). Every other
 * APPn and COM is metadata of some camera or editor and goes: APP1 EXIF
 * (GPS, serial numbers, a thumbnail of the uncropped photo) and XMP,
 * APP13 IPTC, MPF, FlashPix, maker segments. */
static enum jpeg_keep
jpeg_keep(unsigned m, const unsigned char *s, size_t n)
{
	if (m == 0xE0 && n >= 14 && memcmp(s, "JFIF\0", 5) == 0)
		return JPEG_JFIF;
	if (m == 0xE2 && n >= 12 && memcmp(s, "ICC_PROFILE\0", 12) == 0)
		return JPEG_COPY;
	if (m == 0xEE && n >= 5 && memcmp(s, "Adobe", 5) == 0)
		return JPEG_COPY;
	if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE)
		return JPEG_DROP;
	return JPEG_COPY;
}

/* Index of the marker ending the entropy-coded data that starts at i:
 * stuffed FF 00, restart markers and fill bytes belong to the scan. n when
 * no marker follows. */
static size_t
jpeg_scan_end(const unsigned char *p, size_t n, size_t i)
{
	while (i < n) {
		const unsigned char *ff = memchr(p + i, 0xFF, n - i);
		if (ff == NULL || (size_t)(ff - p) + 1 >= n)
			return n;
		i = (size_t)(ff - p);
		unsigned c = p[i + 1];
		if (c == 0x00 || (c >= 0xD0 && c <= 0xD7))
			i += 2;
		else if (c == 0xFF)
			i++;
		else
			return i;
	}
	return n;
}

/*
 * SOI, then segments (marker, 16-bit length, payload) up to EOI; each
 * SOS segment is followed by entropy-coded data up to the next marker.
 * A frame header must come before the first scan, and a scan before EOI.
 */
static bool
jpeg_walk(const unsigned char *p, size_t n, buf *out, unsigned *w,
    unsigned *h)
{
	size_t i = 2;
	bool sof = false, sos = false;

	img_put(out, "\xFF\xD8", 2);
	for (;;) {
		if (i >= n || p[i] != 0xFF)
			return false;
		while (i < n && p[i] == 0xFF) /* fill bytes */
			i++;
		if (i >= n)
			return false;
		unsigned m = p[i++];
		if (m == 0xD9) { /* EOI: anything after it is dropped */
			img_put(out, "\xFF\xD9", 2);
			return sos;
		}
		/* standalone markers have no business outside a scan */
		if (m == 0x00 || m == 0x01 || m == 0xD8 ||
		    (m >= 0xD0 && m <= 0xD7))
			return false;
		if (n - i < 2)
			return false;
		size_t len = be16(p + i);
		if (len < 2 || len > n - i)
			return false;
		const unsigned char *s = p + i + 2;
		size_t sn = len - 2;
		unsigned char mk[2] = {0xFF, (unsigned char)m};
		if (jpeg_is_sof(m) && !sof) {
			/* P, Y (height), X (width), Nf, 3 bytes a component */
			if (sn < 6 || s[5] == 0 || sn != 6 + 3u * s[5])
				return false;
			*h = be16(s + 1);
			*w = be16(s + 3);
			if (*w == 0 || *h == 0)
				return false;
			sof = true;
		}
		if (m == 0xDA) {
			if (!sof)
				return false;
			size_t end = jpeg_scan_end(p, n, i + len);
			if (end >= n)
				return false;
			img_put(out, mk, 2);
			img_put(out, p + i, end - i);
			i = end;
			sos = true;
			continue;
		}
		switch (jpeg_keep(m, s, sn)) {
		case JPEG_DROP:
			break;
		case JPEG_COPY:
			img_put(out, mk, 2);
			img_put(out, p + i, len);
			break;
		case JPEG_JFIF: {
			/* "JFIF\0", version, units, densities; thumbnail 0x0 */
			unsigned char app0[18] = {0xFF, 0xE0, 0x00, 0x10};
			memcpy(app0 + 4, s, 12);
			img_put(out, app0, sizeof(app0));
			break;
		}
		}
		i += len;
	}
}

/* ---- PNG -------------------------------------------------------------- */

/* Ancillary chunks with text, dates or EXIF: dropped. */
static bool
png_drop(const unsigned char *type)
{
	static const char *const drop[] = {"eXIf", "tEXt", "zTXt", "iTXt",
		"tIME"};

	for (size_t k = 0; k < sizeof(drop) / sizeof(drop[0]); k++)
		if (memcmp(type, drop[k], 4) == 0)
			return true;
	return false;
}

/* IHDR's bit depth is one its colour type allows (PNG spec table 11.1),
 * compression and filter are 0, interlace 0 or 1. */
static bool
png_ihdr_ok(const unsigned char *d)
{
	unsigned depth = d[8], color = d[9];
	bool ok;

	switch (color) {
	case 0:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 ||
		    depth == 16;
		break;
	case 3:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8;
		break;
	case 2:
	case 4:
	case 6:
		ok = depth == 8 || depth == 16;
		break;
	default:
		ok = false;
	}
	return ok && d[10] == 0 && d[11] == 0 && d[12] <= 1;
}

/*
 * Signature, then chunks (length, type, data, CRC) from IHDR to IEND,
 * every CRC checked; at least one IDAT. Kept chunks are copied byte for
 * byte, so their CRCs stay valid.
 */
static bool
png_walk(const unsigned char *p, size_t n, buf *out, unsigned *w,
    unsigned *h)
{
	size_t i = 8;
	bool first = true, idat = false;

	img_put(out, p, 8);
	for (;;) {
		if (n - i < 12)
			return false;
		uint32_t len = be32(p + i);
		const unsigned char *type = p + i + 4, *d = p + i + 8;
		if (len > 0x7FFFFFFFu || len > n - i - 12)
			return false;
		for (int k = 0; k < 4; k++)
			if ((type[k] | 0x20) < 'a' || (type[k] | 0x20) > 'z')
				return false;
		if (crc32(0, type, 4 + (uInt)len) != be32(d + len))
			return false;
		bool is_ihdr = memcmp(type, "IHDR", 4) == 0;
		if (first != is_ihdr)
			return false; /* IHDR first, and only there */
		if (first) {
			if (len != 13 || !png_ihdr_ok(d))
				return false;
			*w = be32(d);
			*h = be32(d + 4);
			if (!img_dim_ok(*w) || !img_dim_ok(*h))
				return false;
			first = false;
		}
		if (memcmp(type, "IDAT", 4) == 0)
			idat = true;
		if (!png_drop(type))
			img_put(out, p + i, 12 + (size_t)len);
		i += 12 + (size_t)len;
		if (memcmp(type, "IEND", 4) == 0)
			return len == 0 && idat;
	}
}

/* ---- GIF -------------------------------------------------------------- */

/* Index just past the data sub-blocks starting at i (each a size byte and
 * that many bytes, ended by a 0 size); 0 when they run past n. */
static size_t
gif_blocks_end(const unsigned char *p, size_t n, size_t i)
{
	while (i < n) {
		size_t sz = p[i];
		i += 1 + sz;
		if (sz == 0)
			return i;
	}
	return 0;
}

/* Bytes of a colour table announced by a packed field, 0 if none. */
static size_t
gif_table(unsigned packed)
{
	return packed & 0x80 ? (size_t)3 << ((packed & 7) + 1) : 0;
}

/*
 * Header and logical screen (its size is the image's), global colour
 * table, then image descriptors and extensions up to the trailer; at
 * least one image. Comment extensions and application extensions other
 * than NETSCAPE2.0 (the loop count) are dropped: XMP lives in one.
 */
static bool
gif_walk(const unsigned char *p, size_t n, buf *out, unsigned *w,
    unsigned *h)
{
	size_t i = 13;
	unsigned images = 0;

	if (n < 13)
		return false;
	*w = le16(p + 6);
	*h = le16(p + 8);
	if (*w == 0 || *h == 0)
		return false;
	i += gif_table(p[10]);
	if (i > n)
		return false;
	img_put(out, p, i);
	for (;;) {
		size_t end;
		bool keep = true;
		if (i >= n)
			return false;
		switch (p[i]) {
		case 0x2C: /* image: descriptor, local table, LZW code size */
			if (n - i < 10)
				return false;
			end = i + 10 + gif_table(p[i + 9]);
			if (end >= n || p[end] < 2 || p[end] > 8)
				return false;
			end = gif_blocks_end(p, n, end + 1);
			images++;
			break;
		case 0x21: /* extension: label, sub-blocks */
			if (n - i < 3)
				return false;
			end = gif_blocks_end(p, n, i + 2);
			if (p[i + 1] == 0xFE)
				keep = false;
			else if (p[i + 1] == 0xFF)
				keep = n - i >= 14 && p[i + 2] == 11 &&
				    memcmp(p + i + 3, "NETSCAPE2.0", 11) == 0;
			break;
		case 0x3B: /* trailer: what follows is dropped */
			img_put(out, p + i, 1);
			return images > 0;
		default:
			return false;
		}
		if (end == 0)
			return false;
		if (keep)
			img_put(out, p + i, end - i);
		i = end;
	}
}

/* ---- WebP ------------------------------------------------------------- */

#define VP8X_ANIM 0x02
#define VP8X_XMP 0x04
#define VP8X_EXIF 0x08

/* Width and height of a VP8 key frame (RFC 6386 9.1) or a VP8L image
 * (its 1-byte signature and 14-bit fields). */
static bool
webp_frame(const unsigned char *fourcc, const unsigned char *d, size_t n,
    unsigned *w, unsigned *h)
{
	if (memcmp(fourcc, "VP8 ", 4) == 0) {
		if (n < 10 || (d[0] & 1) != 0 ||
		    memcmp(d + 3, "\x9D\x01\x2A", 3) != 0)
			return false;
		*w = le16(d + 6) & 0x3FFF;
		*h = le16(d + 8) & 0x3FFF;
	} else {
		if (n < 5 || d[0] != 0x2F)
			return false;
		uint32_t bits = le32(d + 1);
		if (bits >> 29 != 0) /* version */
			return false;
		*w = (bits & 0x3FFF) + 1;
		*h = ((bits >> 14) & 0x3FFF) + 1;
	}
	return *w > 0 && *h > 0;
}

/*
 * RIFF header, then chunks (FourCC, 32-bit size, payload padded to even)
 * filling the RIFF size exactly. The first chunk is VP8, VP8L or VP8X;
 * an extended file needs an image chunk (or an ANMF frame when animated)
 * and takes its size from the canvas.
 */
static bool
webp_walk(const unsigned char *p, size_t n, buf *out, unsigned *w,
    unsigned *h)
{
	size_t i = 12, start = out ? out->len : 0, vp8x_at = 0, end;
	uint32_t riff = le32(p + 4);
	unsigned flags = 0, fw, fh;
	bool extended = false, image = false, anmf = false;

	if (riff < 4 || riff > n - 8)
		return false;
	end = 8 + (size_t)riff;
	img_put(out, p, 12); /* the size is fixed below */
	while (i < end) {
		if (end - i < 8)
			return false;
		const unsigned char *cc = p + i, *d = p + i + 8;
		uint64_t sz = le32(p + i + 4), padded = sz + (sz & 1);
		if (padded > end - i - 8)
			return false;
		bool frame = memcmp(cc, "VP8 ", 4) == 0 ||
		    memcmp(cc, "VP8L", 4) == 0;
		if (i == 12) {
			if (memcmp(cc, "VP8X", 4) == 0) {
				if (sz < 10)
					return false;
				extended = true;
				flags = d[0];
				*w = le24(d + 4) + 1;
				*h = le24(d + 7) + 1;
				if (out != NULL)
					vp8x_at = out->len + 8;
			} else if (frame) {
				if (!webp_frame(cc, d, sz, w, h))
					return false;
				image = true;
			} else {
				return false;
			}
		} else if (frame) {
			if (!webp_frame(cc, d, sz, &fw, &fh))
				return false;
			image = true;
		} else if (memcmp(cc, "ANMF", 4) == 0) {
			anmf = true;
		} else if (memcmp(cc, "VP8X", 4) == 0) {
			return false;
		}
		if (memcmp(cc, "EXIF", 4) != 0 && memcmp(cc, "XMP ", 4) != 0)
			img_put(out, p + i, 8 + (size_t)padded);
		i += 8 + (size_t)padded;
	}
	if (!img_dim_ok(*w) || !img_dim_ok(*h))
		return false;
	if (extended && !((flags & VP8X_ANIM) ? anmf : image))
		return false;
	if (out != NULL && !out->err) {
		uint32_t sz = (uint32_t)(out->len - start - 8);
		unsigned char *o = (unsigned char *)out->ptr;
		o[start + 4] = (unsigned char)sz;
		o[start + 5] = (unsigned char)(sz >> 8);
		o[start + 6] = (unsigned char)(sz >> 16);
		o[start + 7] = (unsigned char)(sz >> 24);
		if (extended)
			o[vp8x_at] &= (unsigned char)~(VP8X_EXIF | VP8X_XMP);
	}
	return true;
}

/* ---- the API ---------------------------------------------------------- */

/* Sniffs, then walks with the format's walker. */
static bool
img_walk(const void *vp, size_t n, buf *out, enum image_type *t,
    unsigned *w, unsigned *h)
{
	const unsigned char *p = vp;

	*t = content_image_sniff(p, n);
	*w = *h = 0; /* a WebP of no chunks sets neither */
	switch (*t) {
	case IMAGE_JPEG:
		return jpeg_walk(p, n, out, w, h);
	case IMAGE_PNG:
		return png_walk(p, n, out, w, h);
	case IMAGE_WEBP:
		return webp_walk(p, n, out, w, h);
	case IMAGE_GIF:
		return gif_walk(p, n, out, w, h);
	default:
		return false;
	}
}

bool
content_image_info(const void *p, size_t n, enum image_type *t, unsigned *w,
    unsigned *h)
{
	enum image_type tt;
	unsigned ww = 0, hh = 0;
	bool ok = img_walk(p, n, NULL, &tt, &ww, &hh);

	if (t != NULL)
		*t = tt;
	if (w != NULL)
		*w = ok ? ww : 0;
	if (h != NULL)
		*h = ok ? hh : 0;
	return ok;
}

bool
content_image_strip(buf *out, const void *p, size_t n)
{
	enum image_type t;
	unsigned w, h;
	size_t start = out->len;

	if (out->err)
		return false;
	if (img_walk(p, n, out, &t, &w, &h) && !out->err)
		return true;
	out->len = start;
	if (out->ptr != NULL)
		out->ptr[start] = '\0';
	return false;
}

const char *
content_image_name(arena *a, const void *p, size_t n, enum image_type t)
{
	unsigned char md[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];

	if (t <= IMAGE_NONE || t >= IMAGE__MAX || sodium_init() < 0)
		return NULL;
	crypto_hash_sha256(md, p, n);
	sodium_bin2hex(hex, sizeof(hex), md, 16);
	return arena_printf(a, "%s.%s", hex, img_kinds[t].ext);
}

const char *
content_image_mime(enum image_type t)
{
	return t < IMAGE__MAX ? img_kinds[t].mime : NULL;
}

const char *
content_image_ext(enum image_type t)
{
	return t < IMAGE__MAX ? img_kinds[t].ext : NULL;
}
