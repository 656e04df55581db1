"""Screening a payment batch before it is paid: `hecha screen --batch FILE`."""
