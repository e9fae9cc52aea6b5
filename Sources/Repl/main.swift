import Script
print("tune")
