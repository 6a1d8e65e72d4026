-- Stage conversion at the configured cohort grain (setting stage_conversion_grain),
-- channel = the channel of the event that entered from_stage.

{{ stage_conversion_mart(basis='stage_entry') }}
