// cairo for Swift: PDF surfaces and text, for the registers and the compliance report.
#ifndef VIGIE_CCAIRO_SHIM_H
#define VIGIE_CCAIRO_SHIM_H
#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
#endif
