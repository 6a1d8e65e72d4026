-- Stage conversion at the configured cohort grain (setting stage_conversion_grain),
-- channel = the customer's first channel with the brand (acquisition).

{{ stage_conversion_mart(basis='first_touch') }}
