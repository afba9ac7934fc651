BlogitsJ ÕŠÀ¦º]ÂÃû¨Aù3
B/ºÀ£kÂùWiARB