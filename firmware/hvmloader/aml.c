/*
 * The AML iasl compiled from dsdt.asl and the ssdt_*.asl files at
 * build time (its -tc output, in the build directory).
 */
#include "firmware/hvmloader/acpi.h"

#include "dsdt.hex"
#include "ssdt_s3.hex"
#include "ssdt_s4.hex"
#include "ssdt_vgid.hex"

const uint8_t *const hvmdm_dsdt_aml = dsdt_aml_code;
const uint8_t *const hvmdm_ssdt_s3_aml = ssdt_s3_aml_code;
const uint8_t *const hvmdm_ssdt_s4_aml = ssdt_s4_aml_code;
const uint8_t *const hvmdm_ssdt_vgid_aml = ssdt_vgid_aml_code;
const uint32_t hvmdm_dsdt_aml_len = sizeof(dsdt_aml_code);
const uint32_t hvmdm_ssdt_s3_aml_len = sizeof(ssdt_s3_aml_code);
const uint32_t hvmdm_ssdt_s4_aml_len = sizeof(ssdt_s4_aml_code);
const uint32_t hvmdm_ssdt_vgid_aml_len = sizeof(ssdt_vgid_aml_code);
