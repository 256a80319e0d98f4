/*
 * content/image: the checks every uploaded image passes before it is
 * stored. The type comes from the bytes alone (a name or a Content-Type
 * says nothing), dimensions from the headers, and the stored copy has its
 * metadata (EXIF with GPS, XMP, IPTC, comments) removed, so a source's
 * location cannot leak. Files that do not parse are refused, never passed
 * through. Used by the admin upload, `kiji post` and the importer.
 */
#ifndef KIJI_CONTENT_IMAGE_H
#define KIJI_CONTENT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "../text/text.h"

enum image_type {
	IMAGE_NONE, /* not one of ours: HTML, SVG, text, anything else */
	IMAGE_JPEG,
	IMAGE_PNG,
	IMAGE_WEBP,
	IMAGE_GIF,
	IMAGE__MAX
};

/* Widths and heights above this are refused (a news page shows none). */
#define CONTENT_IMAGE_MAX_DIM 65535u

/* The type by magic bytes only (JPEG FF D8 FF, PNG signature, RIFF/WEBP,
 * GIF87a/GIF89a); IMAGE_NONE for anything else. */
enum image_type content_image_sniff(const void *p, size_t n);

/*
 * Type, width and height in pixels from the headers (JPEG's first SOFn,
 * PNG's IHDR, GIF's logical screen, WebP's VP8X canvas or VP8/VP8L
 * frame), after checking the whole file's structure: every length, PNG
 * CRCs, JPEG segments up to EOI, GIF blocks up to the trailer, WebP
 * chunks against the RIFF size. False for IMAGE_NONE, a malformed file
 * or a dimension of 0 or over CONTENT_IMAGE_MAX_DIM; *t is set anyway
 * (the sniffed type). w and h may be NULL.
 */
bool content_image_info(const void *p, size_t n, enum image_type *t,
    unsigned *w, unsigned *h);

/*
 * Appends to out a copy of the image without metadata. JPEG: APP1 (EXIF,
 * XMP), APP13 (IPTC), COM and every other APPn dropped, except APP0 JFIF
 * (its thumbnail cleared), APP2 ICC_PROFILE and APP14 Adobe; scans
 * copied intact. PNG: eXIf tEXt zTXt iTXt tIME dropped, other chunks and
 * their CRCs copied as they are. WebP: EXIF and "XMP " chunks dropped,
 * their VP8X flags cleared, the RIFF size fixed. GIF: comment and
 * application extensions dropped but NETSCAPE2.0 (looping). Bytes after
 * the end of the image (JPEG EOI, PNG IEND, GIF trailer, RIFF size) are
 * dropped too. False, with nothing appended, whenever content_image_info
 * is false or out refused an append. The copy is never longer than the
 * input, parses with the same type and dimensions, and stripping it again
 * changes nothing.
 */
bool content_image_strip(buf *out, const void *p, size_t n);

/* The file name an image is stored under: the first 32 hex digits of the
 * SHA-256 of its bytes and its extension ("3f…a9.jpg"), in a. NULL for
 * IMAGE_NONE. Callers hash the stripped copy. */
const char *content_image_name(arena *a, const void *p, size_t n,
    enum image_type t);

/* "image/jpeg" ... and "jpg" ...; NULL for IMAGE_NONE. */
const char *content_image_mime(enum image_type t);
const char *content_image_ext(enum image_type t);

#endif
