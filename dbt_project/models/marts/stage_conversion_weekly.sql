-- Stage conversion by week cohorts, channels under the configured channel basis
-- (setting stage_conversion_channel_basis); empty unless week is in period_grains.

{{ stage_conversion_mart(grain='week') }}
