from django import forms

from catalog.services import COUPONS
from orders.services import TAX_RATES


class AddToCartForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=10, initial=1)


class CheckoutForm(forms.Form):
    email = forms.EmailField()
    country = forms.ChoiceField(choices=[(code, code) for code in TAX_RATES])
    coupon = forms.CharField(required=False, max_length=20)
    express = forms.BooleanField(required=False)

    def clean_coupon(self):
        coupon = self.cleaned_data["coupon"].strip().upper()
        if coupon and coupon not in COUPONS:
            raise forms.ValidationError(f"{coupon} is not a valid coupon.")
        return coupon or None
