#ifndef ORDERGATE_CLIBXML2_SHIM_H
#define ORDERGATE_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
/* Debian builds libxml2 with ICU; its headers clash with Foundation's _FoundationICU. Only two trailing pointer
   fields of xmlCharEncodingHandler depend on this, and Swift never allocates that struct. */
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#endif
